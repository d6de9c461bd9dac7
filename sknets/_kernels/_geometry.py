"""Window geometry shared by every kernel implementation.

Convolution and pooling kernels take channels-last batches of one or two
spatial axes: ``(n_samples, steps, channels)`` (1-D: signals, sequences) or
``(n_samples, height, width, channels)`` (2-D: images). A 1-D batch is
handled as images of height 1 (a reshape, no copy), so every implementation
writes its loops for the 2-D case only. :func:`plan` turns the per-axis
arguments (window, stride, zero padding, dilation) into one :class:`Plan`.
"""

from typing import NamedTuple


class Plan(NamedTuple):
    """The geometry of a windowed pass over 2-D images ``(n, h, w, c)``.

    ``kh, kw`` window, ``sh, sw`` stride, ``dh, dw`` dilation, ``pt, pb, pl,
    pr`` zero padding (top, bottom, left, right), ``oh, ow`` output size,
    ``one_d``: the batch was 1-D ``(n, steps, c)`` (``h == 1``).
    """

    n: int
    h: int
    w: int
    c: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pb: int
    pl: int
    pr: int
    oh: int
    ow: int
    one_d: bool

    @property
    def padded(self):
        """``(n, h + pt + pb, w + pl + pr, c)``: the shape of the padded input."""
        return (self.n, self.h + self.pt + self.pb, self.w + self.pl + self.pr, self.c)

    @property
    def unpadded(self):
        return not (self.pt or self.pb or self.pl or self.pr)

    @property
    def tiled(self):
        """Windows side by side, no gap, no overlap, no dilation, no padding."""
        return ((self.sh, self.sw) == (self.kh, self.kw) and self.dh == self.dw == 1
                and self.unpadded)

    @property
    def input_shape(self):
        """The caller's batch shape (1-D or 2-D)."""
        return (self.n, self.w, self.c) if self.one_d else (self.n, self.h, self.w, self.c)

    def output_shape(self, channels):
        """The caller's output batch shape with ``channels`` last."""
        if self.one_d:
            return (self.n, self.ow, channels)
        return (self.n, self.oh, self.ow, channels)

    @property
    def k(self):
        """``kh * kw * c``: values per window (an im2col row)."""
        return self.kh * self.kw * self.c


def _per_axis(value, rank, name, default):
    if value is None:
        return (default,) * rank
    if isinstance(value, int):
        return (value,) * rank
    value = tuple(value)
    if len(value) != rank:
        raise ValueError(f"{name} needs {rank} value(s) for {rank}-D windows, got {value!r}.")
    return value


def plan(shape, window, stride=None, pads=None, dilation=None):
    """The :class:`Plan` of a windowed pass.

    Parameters
    ----------
    shape : tuple of int
        The batch shape, ``(n, steps, c)`` or ``(n, h, w, c)``.
    window : int or tuple of int
        Window size per spatial axis (one int: the same on every axis).
    stride : int, tuple of int or None, default=None
        Step between windows per axis; None: 1.
    pads : tuple of (int, int) or None, default=None
        Zero padding ``(before, after)`` per spatial axis; None: none.
    dilation : int, tuple of int or None, default=None
        Gap between a window's taps per axis (1: contiguous); None: 1.

    Returns
    -------
    Plan

    Raises
    ------
    ValueError
        If the batch is not 3-D or 4-D, an argument has the wrong number of
        values, or the (dilated) window does not fit in the padded input.
    """
    if len(shape) not in (3, 4):
        raise ValueError(f"windowed kernels take (n, steps, c) or (n, h, w, c) batches, "
                         f"got shape {tuple(shape)}.")
    rank = len(shape) - 2
    window = _per_axis(window, rank, "window", None)
    stride = _per_axis(stride, rank, "stride", 1)
    dilation = _per_axis(dilation, rank, "dilation", 1)
    pads = ((0, 0),) * rank if pads is None else tuple(tuple(p) for p in pads)
    if len(pads) != rank:
        raise ValueError(f"pads needs {rank} (before, after) pair(s), got {pads!r}.")
    if rank == 1:
        n, w, c = shape
        h, window, stride, dilation, pads = 1, (1,) + window, (1,) + stride, \
            (1,) + dilation, ((0, 0),) + pads
    else:
        n, h, w, c = shape
    (kh, kw), (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = window, stride, dilation, pads
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if h + pt + pb < span_h or w + pl + pr < span_w:
        raise ValueError(f"a window of {span_h}x{span_w} (dilated) does not fit in "
                         f"{h + pt + pb}x{w + pl + pr} (padded) inputs.")
    oh = (h + pt + pb - span_h) // sh + 1
    ow = (w + pl + pr - span_w) // sw + 1
    return Plan(int(n), int(h), int(w), int(c), int(kh), int(kw), int(sh), int(sw), int(dh),
                int(dw), int(pt), int(pb), int(pl), int(pr), int(oh), int(ow), rank == 1)


def offset_index(g, a, b):
    """The index of what kernel offset ``(a, b)`` reads from the padded batch
    for every output pixel: ``(:, rows, columns, :)``, strided slices."""
    top, left = a * g.dh, b * g.dw
    return (slice(None), slice(top, top + g.sh * (g.oh - 1) + 1, g.sh),
            slice(left, left + g.sw * (g.ow - 1) + 1, g.sw), slice(None))
