"""Output activations fused with their losses, computed on logits.

Each loss takes the last layer's pre-activation ``z`` (the logits) of shape
``(n_samples, n_outputs)`` and targets ``y`` of the same shape, and returns the
mean loss (weighted by ``sample_weight`` when given) and its gradient with
respect to ``z``. Working on logits keeps the computation stable: softmax
cross-entropy uses the log-sum-exp trick, sigmoid cross-entropy the identity
``log(1 + exp(-|z|))``, so no probability is ever rounded to 0 or 1 inside a
logarithm. Every pair here is a canonical link, so the gradient is
``(output(z) - y) / n``.

Losses are averaged over samples and summed over outputs. For one output this
equals scikit-learn's losses exactly; for several outputs scikit-learn's
squared error also averages over outputs in the value it reports but not in
its gradient, so sknets reports the value consistent with the gradient it
uses (``n_outputs`` times scikit-learn's figure).

References
----------
.. [1] C. M. Bishop, "Pattern Recognition and Machine Learning", Springer
   2006, section 4.3.6 (canonical link functions).
"""

from ._docstrings import inherit_docstrings


def _weighted_mean(xp, per_sample, sample_weight, sw_sum):
    if sample_weight is None:
        return xp.mean(per_sample)
    return xp.sum(per_sample * sample_weight) / sw_sum


def _scale_grad(xp, dz, sample_weight, sw_sum, n):
    if sample_weight is None:
        return dz / n
    return dz * (xp.reshape(sample_weight, (-1, 1)) / sw_sum)


def log_softmax(xp, z):
    """Row-wise ``log(softmax(z))`` with the log-sum-exp trick.

    Parameters
    ----------
    xp : namespace
        The array namespace of ``z``.
    z : array of shape (n_samples, n_classes)
        Logits.

    Returns
    -------
    log_p : array of shape (n_samples, n_classes)
        The log-probabilities, finite for any finite logits.
    """
    shifted = z - xp.max(z, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def softmax(xp, z):
    """Row-wise softmax, stable for any logits.

    Parameters
    ----------
    xp : namespace
        The array namespace of ``z``.
    z : array of shape (n_samples, n_classes)
        Logits.

    Returns
    -------
    p : array of shape (n_samples, n_classes)
        Probabilities; each row sums to 1.
    """
    return xp.exp(log_softmax(xp, z))


def sigmoid(xp, z):
    """Logistic function ``1 / (1 + exp(-z))`` without overflow.

    Parameters
    ----------
    xp : namespace
        The array namespace of ``z``.
    z : array
        Logits, any shape.

    Returns
    -------
    p : array of the shape of ``z``
        Probabilities in [0, 1].
    """
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class Loss:
    """Base class: an output function and a loss on logits.

    A subclass defines :meth:`output` and :meth:`per_sample`;
    :meth:`loss_and_grad` is the fused pair the trainers call (the gradient
    ``output - y`` holds for the canonical links used here).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)

    #: Scikit-learn's name for the output activation (``out_activation_``).
    out_activation = None

    def output(self, xp, z):
        """Predictions (probabilities or values) from logits.

        Parameters
        ----------
        xp : namespace
            The array namespace of ``z`` (NumPy, CuPy, an array-API namespace).
        z : array of shape (n_samples, n_outputs)
            Logits.

        Returns
        -------
        output : array of shape (n_samples, n_outputs)
            Probabilities (classification) or predicted values (regression).
        """
        raise NotImplementedError

    def per_sample(self, xp, z, y):
        """Loss of each sample.

        Parameters
        ----------
        xp : namespace
            The array namespace of ``z`` (NumPy, CuPy, an array-API namespace).
        z : array of shape (n_samples, n_outputs)
            Logits.
        y : array of shape (n_samples, n_outputs)
            Encoded targets.

        Returns
        -------
        losses : array of shape (n_samples,)
            Each sample's loss.
        """
        raise NotImplementedError

    def loss(self, xp, z, y, sample_weight=None, sw_sum=None):
        """Mean (or ``sample_weight``-weighted mean) loss.

        Parameters
        ----------
        xp : namespace
            The array namespace of ``z`` (NumPy, CuPy, an array-API namespace).
        z : array of shape (n_samples, n_outputs)
            Logits.
        y : array of shape (n_samples, n_outputs)
            Encoded targets.
        sample_weight : array of shape (n_samples,), default=None
            Weights of the samples; None weighs every sample 1.
        sw_sum : float or 0-d array, default=None
            Sum of ``sample_weight`` (the normaliser); required with weights.

        Returns
        -------
        loss : 0-d array
            The mean loss.
        """
        return _weighted_mean(xp, self.per_sample(xp, z, y), sample_weight, sw_sum)

    def loss_and_grad(self, xp, z, y, sample_weight=None, sw_sum=None):
        """Mean loss and its gradient with respect to ``z``.

        Parameters
        ----------
        xp : namespace
            The array namespace of ``z`` (NumPy, CuPy, an array-API namespace).
        z : array of shape (n_samples, n_outputs)
            Logits.
        y : array of shape (n_samples, n_outputs)
            Targets (one-hot or indicator rows for classification).
        sample_weight : array of shape (n_samples,), default=None
            Weights of the samples; None weighs every sample 1.
        sw_sum : float or 0-d array, default=None
            Sum of ``sample_weight`` (the normaliser); required with weights.

        Returns
        -------
        loss : 0-d array
            The mean loss.
        dz : array of shape (n_samples, n_outputs)
            Its gradient with respect to ``z``.
        """
        loss = self.loss(xp, z, y, sample_weight, sw_sum)
        dz = _scale_grad(xp, self.output(xp, z) - y, sample_weight, sw_sum, z.shape[0])
        return loss, dz


class SoftmaxCrossEntropy(Loss):
    """Softmax output with categorical cross-entropy (multiclass)."""

    out_activation = "softmax"

    def output(self, xp, z):
        return softmax(xp, z)

    def per_sample(self, xp, z, y):
        return -xp.sum(y * log_softmax(xp, z), axis=1)

    def loss_and_grad(self, xp, z, y, sample_weight=None, sw_sum=None):
        logp = log_softmax(xp, z)
        loss = _weighted_mean(xp, -xp.sum(y * logp, axis=1), sample_weight, sw_sum)
        dz = _scale_grad(xp, xp.exp(logp) - y, sample_weight, sw_sum, z.shape[0])
        return loss, dz


class SigmoidCrossEntropy(Loss):
    """Sigmoid outputs with binary cross-entropy (binary and multilabel)."""

    out_activation = "logistic"

    def output(self, xp, z):
        return sigmoid(xp, z)

    def per_sample(self, xp, z, y):
        # log(1 + exp(z)) - y z, written to never overflow.
        terms = xp.maximum(z, 0.0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
        return xp.sum(terms, axis=1)


class SquaredError(Loss):
    """Identity output with half squared error ``0.5 * sum((z - y)**2)``."""

    out_activation = "identity"

    def output(self, xp, z):
        return z

    def per_sample(self, xp, z, y):
        diff = z - y
        return 0.5 * xp.sum(diff * diff, axis=1)


class PoissonDeviance(Loss):
    """Exponential output with half Poisson deviance (log link).

    Per sample ``sum(y log(y / mu) - y + mu)`` with ``mu = exp(z)`` and
    ``0 log 0 = 0``, as scikit-learn's ``loss="poisson"``.
    """

    out_activation = "exp"

    def output(self, xp, z):
        return xp.exp(z)

    def per_sample(self, xp, z, y):
        safe_y = xp.where(y > 0, y, 1.0)
        ylogy = xp.where(y > 0, y * xp.log(safe_y), 0.0)
        return xp.sum(ylogy - y * z - y + xp.exp(z), axis=1)


LOSSES = {
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "sigmoid_cross_entropy": SigmoidCrossEntropy,
    "squared_error": SquaredError,
    "poisson": PoissonDeviance,
}


class PerceptronCriterion(Loss):
    """Rosenblatt's perceptron criterion with a step output.

    Each output column is one binary (one-vs-rest) problem with targets
    ``y`` in ``{-1, +1}``. The loss of a sample on an output is
    ``max(0, -y z)``: zero when the logit has the right sign, the size of
    the logit when it is wrong. Its gradient with respect to ``z`` is ``-y``
    on a mistake, where ``y z <= 0`` (a logit of exactly 0 counts as a
    mistake, as in scikit-learn's ``Perceptron``, so training can start from
    zero weights), and 0 otherwise. A gradient step of size ``eta`` on one
    sample is therefore the perceptron rule ``w += eta y x`` on mistakes.

    The output is Heaviside's step ``1[z > 0]`` (the predicted class of each
    one-vs-rest problem); unlike the other losses here, the gradient is not
    ``output - y``: the step function has no useful derivative, which is why
    the criterion is defined on the logits.

    ``sample_weight`` may have shape ``(n_samples,)`` or
    ``(n_samples, n_outputs)`` (a weight per sample and problem, e.g. class
    weights of one-vs-rest problems).

    References
    ----------
    .. [1] F. Rosenblatt, "The perceptron: a probabilistic model for
       information storage and organization in the brain", Psychological
       Review 65(6), 1958.
    .. [2] C. M. Bishop, "Pattern Recognition and Machine Learning",
       Springer 2006, section 4.1.7 (the perceptron criterion).
    """

    out_activation = "step"

    def output(self, xp, z):
        return xp.astype(z > 0, z.dtype)

    def per_output(self, xp, z, y):
        """Unweighted loss ``max(0, -y z)`` of each sample and output.

        Parameters
        ----------
        xp : namespace
            The array namespace of ``z``.
        z, y : arrays of shape (n_samples, n_outputs)
            Logits, and targets in {-1, +1}.

        Returns
        -------
        losses : array of shape (n_samples, n_outputs)
            Each sample's loss on each one-vs-rest problem.
        """
        return xp.maximum(-(y * z), 0.0)

    def per_sample(self, xp, z, y):
        return xp.sum(self.per_output(xp, z, y), axis=1)

    def gradient(self, xp, z, y, weight=None):
        """Unnormalised gradient: ``-y * weight`` where ``y z <= 0``, else 0.

        Parameters
        ----------
        xp : namespace
            The array namespace of ``z``.
        z, y : arrays of shape (n_samples, n_outputs)
            Logits, and targets in {-1, +1}.
        weight : array broadcastable to ``z``, default=None
            Sample (or sample and problem) weights; None weighs 1.

        Returns
        -------
        dz : array of shape (n_samples, n_outputs)
            The gradient, not divided by the number of samples.
        """
        g = -y if weight is None else -(y * weight)
        return xp.where(y * z <= 0, g, 0.0)

    @staticmethod
    def _weight_2d(xp, sample_weight):
        if sample_weight is None or sample_weight.ndim == 2:
            return sample_weight
        return xp.reshape(sample_weight, (-1, 1))

    def loss(self, xp, z, y, sample_weight=None, sw_sum=None):
        w = self._weight_2d(xp, sample_weight)
        per_output = self.per_output(xp, z, y)
        if w is None:
            return xp.sum(per_output) / z.shape[0]
        return xp.sum(per_output * w) / sw_sum

    def loss_and_grad(self, xp, z, y, sample_weight=None, sw_sum=None):
        w = self._weight_2d(xp, sample_weight)
        loss = self.loss(xp, z, y, sample_weight, sw_sum)
        norm = z.shape[0] if w is None else sw_sum
        return loss, self.gradient(xp, z, y, w) / norm


LOSSES["perceptron"] = PerceptronCriterion


def softplus(xp, z):
    """``log(1 + exp(z))`` without overflow: ``max(z, 0) + log1p(exp(-|z|))``.

    Parameters
    ----------
    xp : namespace
        The array namespace of ``z``.
    z : array
        Logits, any shape.

    Returns
    -------
    s : array of the shape of ``z``
        The softplus of each value.
    """
    return xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))


class DiscriminatorLoss(Loss):
    """A GAN discriminator's sigmoid cross-entropy, with one-sided label smoothing.

    The discriminator's logit ``z`` says how real a sample looks; ``y`` is 1
    for a real sample and 0 for a generated one [1]_. Real targets are
    smoothed to ``1 - label_smoothing`` and fake ones stay 0 (one-sided
    smoothing, Salimans et al. [2]_), which keeps the discriminator from
    growing over-confident logits on real data. Per sample
    ``softplus(z) - t z`` with ``t = y (1 - label_smoothing)``, computed as
    :class:`SigmoidCrossEntropy` is (no exponential overflows), with the
    gradient ``(sigmoid(z) - t) / n``.

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.0
        How far real targets are moved from 1 toward 0.

    References
    ----------
    .. [1] I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley,
       S. Ozair, A. Courville and Y. Bengio, "Generative adversarial nets",
       NeurIPS 2014.
    .. [2] T. Salimans, I. Goodfellow, W. Zaremba, V. Cheung, A. Radford and
       X. Chen, "Improved techniques for training GANs", NeurIPS 2016,
       section 3.4.
    """

    out_activation = "logistic"

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _targets(self, y):
        return y * (1.0 - self.label_smoothing) if self.label_smoothing else y

    def output(self, xp, z):
        return sigmoid(xp, z)

    def per_sample(self, xp, z, y):
        return xp.sum(softplus(xp, z) - z * self._targets(y), axis=1)

    def loss_and_grad(self, xp, z, y, sample_weight=None, sw_sum=None):
        loss = self.loss(xp, z, y, sample_weight, sw_sum)
        dz = _scale_grad(xp, sigmoid(xp, z) - self._targets(y), sample_weight, sw_sum,
                         z.shape[0])
        return loss, dz


class GeneratorLoss(Loss):
    """A GAN generator's non-saturating loss ``-log D(G(z))``, on logits.

    ``z`` are the discriminator's logits on generated samples. Minimising
    ``-log sigmoid(z) = softplus(-z)`` instead of the minimax
    ``log(1 - sigmoid(z))`` gives the generator strong gradients exactly when
    the discriminator rejects its samples (Goodfellow et al. [1]_, section 3).
    The gradient is ``(sigmoid(z) - 1) / n``; ``y`` is not used (every
    generated sample's target is "real").

    References
    ----------
    .. [1] I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley,
       S. Ozair, A. Courville and Y. Bengio, "Generative adversarial nets",
       NeurIPS 2014.
    """

    out_activation = "logistic"

    def output(self, xp, z):
        return sigmoid(xp, z)

    def per_sample(self, xp, z, y=None):
        return xp.sum(softplus(xp, -z), axis=1)

    def loss(self, xp, z, y=None, sample_weight=None, sw_sum=None):
        return _weighted_mean(xp, self.per_sample(xp, z), sample_weight, sw_sum)

    def loss_and_grad(self, xp, z, y=None, sample_weight=None, sw_sum=None):
        loss = self.loss(xp, z, y, sample_weight, sw_sum)
        dz = _scale_grad(xp, sigmoid(xp, z) - 1.0, sample_weight, sw_sum, z.shape[0])
        return loss, dz
