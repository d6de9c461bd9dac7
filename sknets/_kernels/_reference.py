"""The reference kernels: every hot pass written in the array-API standard.

:class:`ArrayAPIKernels` runs on any array-API namespace (``array_api_strict``
proves it uses nothing else) and is the definition the other implementations
are tested against: NumPy's (:mod:`._numpy`), CuPy's (:mod:`._cupy`) and the
compiled CPU kernels (:mod:`._numba`) give the same results, bit for bit
where they do the same operations in the same order, else to float rounding.
It favours plain code over speed: windows are stacked copies, col2im adds one
kernel offset at a time, optimizer steps allocate their temporaries.
"""

from array_api_compat import device as _device

from ._geometry import offset_index, plan


class ArrayAPIKernels:
    """The kernel interface and its reference implementation.

    Parameters
    ----------
    xp : module
        An array-API namespace.

    Notes
    -----
    Batches are channels-last, ``(n_samples, steps, channels)`` for 1-D
    windows and ``(n_samples, height, width, channels)`` for 2-D ones (see
    :mod:`sknets._kernels._geometry`). ``work``, where a method takes it, is
    ``None`` or a callable ``work(name, shape, dtype, zero=False)`` returning
    an array kept from one training batch to the next
    (:meth:`sknets.layers.Layer._work`); an implementation may write its
    results into such arrays, so a caller passes it in training only and uses
    a result before the next batch. This implementation ignores it.
    """

    #: short name, shown in benchmarks and error messages
    name = "array_api"
    #: whether a network should run a max pooling and the ReLU after it as one
    #: :meth:`max_pool` call (where that saves a pass; the results are the same)
    fuses_pool_activation = False

    def __init__(self, xp):
        self.xp = xp

    def __repr__(self):
        return f"{type(self).__name__}({self.xp.__name__})"

    def __getattr__(self, name):
        # kernels added by sknets._kernels.register_kernel (e.g. a trainer's)
        from ._registry import lookup

        return lookup(self, name)

    # ----------------------------------------------------------- geometry
    def _as_2d(self, x, g):
        """A 1-D batch ``(n, steps, c)`` as images of height 1 (a view)."""
        return self.xp.reshape(x, (g.n, 1, g.w, g.c)) if g.one_d else x

    def _pad(self, x, g, work):
        """``x`` zero-padded by the plan's pads (``x`` itself without pads)."""
        if g.unpadded:
            return x
        xp = self.xp
        xpad = xp.zeros(g.padded, dtype=x.dtype, device=_device(x))
        xpad[:, g.pt:g.pt + g.h, g.pl:g.pl + g.w, :] = x
        return xpad

    def _windows(self, xpad, g):
        """The windows ``(n, oh, ow, kh, kw, c)`` of a padded batch (a copy
        here: one standard slice per kernel offset, stacked)."""
        xp = self.xp
        rows = [xp.stack([xpad[offset_index(g, a, b)] for b in range(g.kw)],
                         axis=3) for a in range(g.kh)]
        return xp.stack(rows, axis=3)

    # -------------------------------------------------------- convolution
    def im2col(self, x, window, stride=None, pads=None, dilation=None, *, ones=False,
               work=None):
        """The im2col matrix of a batch: one row per output pixel.

        Parameters
        ----------
        x : array of shape (n, steps, c) or (n, h, w, c)
        window : int or tuple of int
            Window size per spatial axis, ``(k,)`` or ``(kh, kw)``.
        stride, dilation : int, tuple of int or None, default=None
            Per spatial axis; None: 1.
        pads : tuple of (int, int) or None, default=None
            Zero padding ``(before, after)`` per spatial axis.
        ones : bool, default=False
            Append a column of ones: the product with a kernel that has the
            bias as its last row then adds the bias, and the kernel gradient
            ``cols.T @ dY`` has the bias gradient as its last row (no separate
            passes for either).
        work : callable or None, default=None
            Work arrays kept between training batches (see the class notes).

        Returns
        -------
        cols : array of shape (n * oh * ow, kh * kw * c (+ 1 with ``ones``))
            Row ``(s, i, j)``, column ``(a, b, ch)`` holds the padded
            ``x[s, i*sh + a*dh, j*sw + b*dw, ch]`` (``oh = 1, kh = 1`` in 1-D).
        """
        g = plan(x.shape, window, stride, pads, dilation)
        return self._im2col(self._as_2d(x, g), g, ones, work)

    def _im2col(self, x, g, ones, work):
        xp = self.xp
        cols = xp.reshape(self._windows(self._pad(x, g, work), g), (g.n * g.oh * g.ow, g.k))
        if ones:
            column = xp.ones((cols.shape[0], 1), dtype=cols.dtype, device=_device(cols))
            cols = xp.concat([cols, column], axis=1)
        return cols

    def col2im(self, cols, shape, window, stride=None, pads=None, dilation=None, *, work=None):
        """The adjoint of :meth:`im2col`: window values summed back onto the input.

        Parameters
        ----------
        cols : array of shape (n * oh * ow, kh * kw * c)
            E.g. the gradient with respect to the im2col matrix.
        shape : tuple of int
            The (unpadded) batch shape, ``(n, steps, c)`` or ``(n, h, w, c)``.
        window, stride, pads, dilation, work
            As :meth:`im2col`.

        Returns
        -------
        dx : array of shape ``shape``
            ``dx[s, y, x, ch]`` is the sum of the entries of ``cols`` that
            :meth:`im2col` reads from that place, added in the order of the
            kernel offsets ``(a, b)`` (padding dropped).
        """
        g = plan(shape, window, stride, pads, dilation)
        return self._col2im(cols, g, work)

    def _col2im(self, cols, g, work):
        xp = self.xp
        dcols = xp.reshape(cols, (g.n, g.oh, g.ow, g.kh, g.kw, g.c))
        dx = xp.zeros(g.padded, dtype=cols.dtype, device=_device(cols))
        for a in range(g.kh):
            for b in range(g.kw):
                dx[offset_index(g, a, b)] += dcols[:, :, :, a, b, :]
        return self._crop(dx, g)

    def _crop(self, dxpad, g):
        """A padded batch's inside, in the caller's shape."""
        if not g.unpadded:
            dxpad = dxpad[:, g.pt:g.pt + g.h, g.pl:g.pl + g.w, :]
        return self.xp.reshape(dxpad, g.input_shape) if g.one_d else dxpad

    def conv_input_grad(self, dY, W, shape, stride=None, pads=None, dilation=None, *,
                        work=None):
        """The input gradient of a convolution: col2im of ``dY @ W.T``.

        Parameters
        ----------
        dY : array of shape (n, out_steps, f) or (n, oh, ow, f)
            Gradient with respect to the convolution's output.
        W : array of shape (k, c, f) or (kh, kw, c, f)
            The kernel.
        shape : tuple of int
            The input batch shape.
        stride, pads, dilation, work
            As :meth:`im2col`.

        Returns
        -------
        dX : array of shape ``shape``
        """
        g = plan(shape, tuple(W.shape[:-2]), stride, pads, dilation)
        return self._conv_input_grad(dY, W, g, work)

    def _conv_input_grad(self, dY, W, g, work):
        xp = self.xp
        f = W.shape[-1]
        dcols = xp.reshape(dY, (-1, f)) @ xp.reshape(W, (-1, f)).T
        return self._col2im(dcols, g, work)

    def kernel_gradient(self, cols, dY):
        """``cols.T @ dY``: a convolution's kernel gradient, shape ``(k, f)``.

        ``cols`` is the forward pass's im2col matrix ``(n * pixels, k)``, ``dY``
        the output gradient ``(n, ..., f)``.
        """
        return cols.T @ self.xp.reshape(dY, (-1, dY.shape[-1]))

    def channel_bias_gradient(self, dY):
        """The sum of ``dY`` over every axis but the last (channels): shape
        ``(f,)``, as a product with ones (a GEMV: NumPy's column sum of a tall,
        narrow matrix is about 20x slower)."""
        xp = self.xp
        dY2 = xp.reshape(dY, (-1, dY.shape[-1]))
        return xp.ones((dY2.shape[0],), dtype=dY2.dtype, device=_device(dY2)) @ dY2

    def add_channel_bias(self, Y, b):
        """``Y += b`` in place for a channels-last ``Y``; returns ``Y``."""
        Y += b
        return Y

    def matmul(self, a, b, *, work=None, name="product"):
        """``a @ b``, written into the work array ``name`` where the
        implementation can (``work`` as in the class notes)."""
        return a @ b

    # ------------------------------------------------------------ pooling
    def max_pool(self, x, pool, stride=None, *, activation=None, training=False, work=None):
        """Window maxima, optionally followed by a ReLU.

        Parameters
        ----------
        x : array of shape (n, steps, c) or (n, h, w, c)
        pool : int or tuple of int
            Window size per spatial axis; the rows and columns no whole
            window covers are dropped (``"valid"``).
        stride : int, tuple of int or None, default=None
            None: ``pool`` (side-by-side windows).
        activation : {None, "relu"}, default=None
            ``"relu"`` returns ``max(window maxima, 0)``, the output of a max
            pooling followed by a ReLU (they commute), in one pass where the
            implementation can.
        training : bool, default=False
            Whether to return what :meth:`max_pool_backward` needs.
        work : callable or None, default=None

        Returns
        -------
        Y : array of shape (n, out_steps, c) or (n, oh, ow, c)
        cache : object or None
            For :meth:`max_pool_backward` (None unless ``training``).
        """
        g = plan(x.shape, pool, pool if stride is None else stride)
        if activation not in (None, "relu"):
            raise ValueError(f"activation must be None or 'relu', got {activation!r}.")
        Y, cache = self._max_pool(self._as_2d(x, g), g, activation, training, work)
        return self.xp.reshape(Y, g.output_shape(g.c)), cache

    def _max_pool(self, x, g, activation, training, work):
        xp = self.xp
        win = self._windows(x, g)
        Ypool = xp.max(win, axis=(3, 4))
        Y = Ypool if activation is None else xp.maximum(Ypool, 0.0)
        return Y, ((win, Ypool, g, activation) if training else None)

    def max_pool_backward(self, dY, cache, *, work=None):
        """Input gradient of :meth:`max_pool` (with its activation).

        Each window's gradient goes to the places that hold its maximum,
        split equally between them when several tie (a subgradient of
        ``max``); with ``activation="relu"``, windows whose maximum is not
        positive pass none.

        Parameters
        ----------
        dY : array shaped as the output of :meth:`max_pool`
        cache : object
            The second result of ``max_pool(..., training=True)``.
        work : callable or None, default=None

        Returns
        -------
        dX : array shaped as the input of :meth:`max_pool`
        """
        return self._max_pool_backward(dY, cache, work)

    def _max_pool_backward(self, dY, cache, work):
        xp = self.xp
        win, Ypool, g, activation = cache
        dY = xp.reshape(dY, (g.n, g.oh, g.ow, g.c))
        if activation == "relu":   # the ReLU's derivative, as the Activation layer's
            dY = dY * xp.astype(Ypool > 0, dY.dtype)
        hit = xp.astype(win == Ypool[:, :, :, None, None, :], dY.dtype)
        count = xp.sum(hit, axis=(3, 4))   # small integers: exact in any order
        return self._col2im(hit * (dY / count)[:, :, :, None, None, :], g, work)

    def avg_pool(self, x, pool, stride=None):
        """Window means (arguments as :meth:`max_pool`; summed in the order
        of the window offsets, then divided by the window size)."""
        g = plan(x.shape, pool, pool if stride is None else stride)
        win = self._windows(self._as_2d(x, g), g)
        total = None
        for a in range(g.kh):
            for b in range(g.kw):
                part = win[:, :, :, a, b, :]
                total = part if total is None else total + part
        return self.xp.reshape(total / (g.kh * g.kw), g.output_shape(g.c))

    def avg_pool_backward(self, dY, shape, pool, stride=None):
        """Input gradient of :meth:`avg_pool` for an input of ``shape``."""
        xp = self.xp
        g = plan(shape, pool, pool if stride is None else stride)
        share = xp.reshape(dY / (g.kh * g.kw), (g.n, g.oh, g.ow, 1, 1, g.c))
        return self._col2im(xp.broadcast_to(share, (g.n, g.oh, g.ow, g.kh, g.kw, g.c)), g, None)

    # ---------------------------------------------------------- optimizers
    def sgd_step(self, params, grads, velocities, *, learning_rate, momentum, nesterov,
                 work=None):
        """One momentum step, in place: ``v = mu v - lr g``, then ``p += v``
        (or ``p += mu v - lr g`` with Nesterov's momentum).

        Parameters
        ----------
        params, grads, velocities : lists of arrays
            Parameters and velocities are updated in place.
        learning_rate, momentum : float
        nesterov : bool
        work : dict or None, default=None
            A dict the optimizer keeps (and drops when pickled) where an
            implementation may store scratch arrays between steps.
        """
        lr, mu = learning_rate, momentum
        for p, v, g in zip(params, velocities, grads):
            v *= mu
            v -= lr * g
            if nesterov:
                p += mu * v - lr * g
            else:
                p += v

    def adam_step(self, params, grads, ms, vs, *, learning_rate, beta_1, beta_2, epsilon,
                  work=None):
        """One Adam step, in place, with a bias-corrected ``learning_rate``:
        ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``,
        ``p -= lr m / (sqrt(v) + eps)`` (arguments as :meth:`sgd_step`)."""
        xp = self.xp
        b1, b2, lr, eps = beta_1, beta_2, learning_rate, epsilon
        for p, m, v, g in zip(params, ms, vs, grads):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= lr * m / (xp.sqrt(v) + eps)

    def adagrad_step(self, params, grads, hs, *, learning_rate, epsilon, work=None):
        """One AdaGrad step, in place: ``h += g^2``, ``p -= lr g / (sqrt(h) + eps)``
        (arguments as :meth:`sgd_step`; the book "Deep Learning from Scratch",
        ``common/optimizer.py``)."""
        xp = self.xp
        lr, eps = learning_rate, epsilon
        for p, h, g in zip(params, hs, grads):
            h += g * g
            p -= lr * g / (xp.sqrt(h) + eps)

    def rmsprop_step(self, params, grads, hs, *, learning_rate, decay_rate, epsilon, work=None):
        """One RMSprop step, in place: ``h = d h + (1 - d) g^2``,
        ``p -= lr g / (sqrt(h) + eps)`` (arguments as :meth:`sgd_step`; the
        book's ``RMSprop``)."""
        xp = self.xp
        lr, eps, d = learning_rate, epsilon, decay_rate
        for p, h, g in zip(params, hs, grads):
            h *= d
            h += (1 - d) * g * g
            p -= lr * g / (xp.sqrt(h) + eps)
