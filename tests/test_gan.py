"""GenerativeAdversarialNetwork: sampling, labels, parameters, stability, quality.

scikit-learn's estimator checks run in ``test_common.py``; the CuPy path in
``test_gan_backends.py``; the GAN losses' gradients in ``test_losses.py``.
"""

import os
import pickle
import signal
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import sknets._gan_trainer as trainer_module
from sknets import DivergenceError, GenerativeAdversarialNetwork, NeuralNetClassifier
from sknets.callbacks import HAS_SKLEARN_CALLBACKS
from sknets.layers import Activation, Conv2D, Dense, Dropout, Flatten
from sknets.metrics import c2st_score
from sknets.optimizers import Adam

SMALL = dict(generator=[Dense(32), Activation("leaky_relu")],
             discriminator=[Dense(32), Activation("leaky_relu")], latent_dim=8)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def small_gan(**params):
    return GenerativeAdversarialNetwork(**{**SMALL, "max_iter": 3, "random_state": 0,
                                           **params})


def fitted_state(gan):
    return pickle.dumps({k: v for k, v in vars(gan).items() if k.endswith("_")})


# ------------------------------------------------------------------ sample
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unconditional_samples_have_the_data_s_shape_range_and_dtype(digits, dtype):
    X, _ = digits
    X = 3 * X.astype(dtype) - 1      # a range of [-1, 2]
    gan = small_gan().fit(X)
    X_new = gan.sample(50)
    assert X_new.shape == (50, 64) and X_new.dtype == dtype
    assert np.all(X_new >= gan.data_min_) and np.all(X_new <= gan.data_max_)
    constant = gan.data_min_ == gan.data_max_          # e.g. the corner pixels
    assert constant.any()
    np.testing.assert_array_equal(X_new[:, constant], np.broadcast_to(
        gan.data_min_[constant], X_new[:, constant].shape))
    assert X_new.std(axis=0).max() > 0.01              # not one sample 50 times
    assert gan.sample().shape == (1, 64)


def test_images_are_generated_in_the_fitted_sample_shape(digits):
    X, _ = digits
    images = X.reshape(-1, 8, 8, 1)
    conv = dict(generator=[Dense(4 * 4 * 4), Activation("relu"), Flatten()],
                discriminator=[Conv2D(4, 3), Activation("leaky_relu"), Flatten()])
    gan = small_gan(**conv).fit(images)
    assert gan.input_shape_ == (8, 8, 1) and gan.n_features_in_ == 64
    assert gan.sample(5).shape == (5, 8, 8, 1)
    # conditional: one constant plane per class joins the image's channels
    cgan = small_gan(**conv).fit(images, digits[1])
    assert cgan.discriminator_.input_shape_ == (8, 8, 11)
    X_new, y_new = cgan.sample(4, y=[1, 2, 3, 4])
    assert X_new.shape == (4, 8, 8, 1) and y_new.tolist() == [1, 2, 3, 4]


def test_a_generator_that_outputs_the_image_shape_gets_only_tanh(digits):
    X, _ = digits
    gan = small_gan(generator=[Dense(64), Activation("relu"), Flatten()]).fit(X)
    assert [layer.describe() for layer in gan.generator_.layers][-2:] == [
        "Dense(64)", "Activation(tanh)"]   # flat rows: the output Dense is added
    from sknets.layers import Reshape
    gen = [Dense(8 * 8 * 2), Reshape((8, 8, 2)), Conv2D(1, 3, padding="same")]
    gan = small_gan(generator=gen).fit(X.reshape(-1, 8, 8, 1))
    assert [layer.describe() for layer in gan.generator_.layers][-2:] == [
        "Activation(tanh)", "Flatten"]


def test_conditional_sample_labels(digits):
    X, y = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                       "nine"])[y]
    gan = small_gan().fit(X, labels)
    assert sorted(gan.classes_) == sorted(set(labels))
    np.testing.assert_allclose(gan.class_prior_.sum(), 1.0)
    X_new, y_new = gan.sample(7, y="three")
    assert X_new.shape == (7, 64) and y_new.tolist() == ["three"] * 7
    X_new, y_new = gan.sample(3, y=["one", "two", "one"])
    assert y_new.tolist() == ["one", "two", "one"]
    _, drawn = gan.sample(2000, random_state=0)       # from the class frequencies
    freq = np.array([np.mean(drawn == c) for c in gan.classes_])
    np.testing.assert_allclose(freq, gan.class_prior_, atol=0.03)
    with pytest.raises(ValueError, match="not seen in fit: \\['ten'\\]"):
        gan.sample(1, y="ten")
    with pytest.raises(ValueError, match="2 labels but n_samples=3"):
        gan.sample(3, y=["one", "two"])
    with pytest.raises(ValueError, match="fitted without labels"):
        small_gan().fit(X).sample(2, y=[0, 1])
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        gan.sample(0)
    with pytest.raises(ValueError, match="Unknown label type"):
        small_gan().fit(X, X[:, 10] + 0.5)


def test_sample_is_deterministic_and_leaves_the_estimator_unchanged(digits):
    X, y = digits
    gan = small_gan(random_state=3).fit(X, y)
    before = pickle.dumps(gan)
    a, ya = gan.sample(20)
    b, yb = gan.sample(20)
    np.testing.assert_array_equal(a, b)                # random_state=3: the same draws
    np.testing.assert_array_equal(ya, yb)
    c, _ = gan.sample(20, random_state=1)
    assert not np.allclose(a, c)
    assert pickle.dumps(gan) == before
    again = small_gan(random_state=3).fit(X, y)
    np.testing.assert_array_equal(again.sample(20)[0], a)   # fit is deterministic too
    other = small_gan(random_state=4).fit(X, y)
    assert not np.allclose(other.sample(20)[0], a)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        GenerativeAdversarialNetwork().sample(3)


# -------------------------------------------------------------- parameters
def test_nested_layer_parameters_clone_and_pickle(digits):
    X, y = digits
    gen = [Dense(16), Activation("relu"), ("drop", Dropout(0.1))]
    gan = GenerativeAdversarialNetwork(gen, latent_dim=4, max_iter=2, random_state=0)
    params = gan.get_params()
    assert params["generator__0__units"] == 16
    assert params["generator__drop__rate"] == 0.1
    assert params["discriminator"] is None
    gan.set_params(generator__0__units=24, generator__drop__rate=0.2, max_iter=3)
    assert gen[0].units == 24 and gen[2][1].rate == 0.2 and gan.max_iter == 3
    with pytest.raises(ValueError, match="no layer named or at position 'nope'"):
        gan.set_params(generator__nope__units=3)
    twin = clone(gan)
    assert twin.generator[0] is not gen[0] and twin.get_params()["generator__0__units"] == 24
    gan.fit(X, y)
    assert not hasattr(gen[0], "params")               # the specifications are not built
    assert gan.generator_.layers[0].describe() == "Dense(24)"
    loaded = pickle.loads(pickle.dumps(gan))
    np.testing.assert_array_equal(loaded.sample(5)[0], gan.sample(5)[0])
    with pytest.raises(TypeError, match=r"discriminator\[0\] must be an sknets.layers layer"):
        GenerativeAdversarialNetwork(discriminator=["dense"]).fit(X)


def test_a_failed_fit_leaves_the_model_as_it_was(digits):
    X, y = digits
    gan = small_gan().fit(X, y)
    before = fitted_state(gan)
    with pytest.raises(ValueError, match="Conv2D expects images"):
        gan.set_params(generator=[Dense(8), Conv2D(2, 3)]).fit(X)
    gan.set_params(**SMALL)
    with pytest.raises(DivergenceError, match="Diverged at epoch 1"):
        gan.set_params(learning_rate_init=1e8, discriminator_learning_rate=1e8).fit(X)
    assert fitted_state(gan) == before


def test_refit_unconditional_drops_the_classes(digits):
    X, y = digits
    gan = small_gan().fit(X, y)
    assert hasattr(gan, "classes_")
    gan.fit(X)
    assert not hasattr(gan, "classes_") and gan.sample(2).shape == (2, 64)


# ------------------------------------------------------- fitted networks
def test_summary_and_discriminator_features_for_transfer(digits, capsys):
    X, y = digits
    gan = small_gan(max_iter=5).fit(X)
    table = gan.generator_.summary()
    assert "Dense(32)" in table and "Activation(tanh)" in table and "Total params" in table
    assert table in capsys.readouterr().out
    assert gan.discriminator_.summary(print_fn=None).splitlines()[2].startswith("Input")
    features = gan.discriminator_.feature_layers()
    assert [layer.describe() for layer in features] == ["Dense(32)", "Activation(leaky_relu)"]
    assert features[0].trainable is False
    clf = NeuralNetClassifier([*features, Dense(16), Activation("relu")], max_iter=200,
                              learning_rate_init=0.01, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.coefs_[0], gan.discriminator_.layers[0].params["W"])
    assert clf.score(X, y) > 0.8


# ------------------------------------------------------------ training
def test_verbose_table_history_and_validation(digits, capsys):
    X, y = digits
    gan = small_gan(max_iter=4, verbose=2, validation_fraction=0.2).fit(X, y)
    out = capsys.readouterr().out
    assert "d_loss" in out and "g_loss" in out and "valid_c2st" in out
    assert len(gan.history_) == gan.n_iter_ == 4
    for record in gan.history_:
        assert {"epoch", "d_loss", "g_loss", "d_real", "d_fake", "valid_c2st", "dur"} <= set(record)
        assert 0 <= record["d_real"] <= 1 and 0.4 <= record["valid_c2st"] <= 1
    best = min(range(4), key=lambda i: (gan.history_[i]["valid_c2st"], i))
    assert gan.best_epoch_ == best + 1
    assert "Kept the best generator by valid_c2st" in out
    with pytest.raises(ValueError, match="validation set is too small"):
        small_gan(validation_fraction=0.01).fit(X)


def test_discriminator_and_generator_step_ratio(digits, monkeypatch):
    X, _ = digits
    steps = []
    original = Adam.update_params

    def counting(self, params, grads):
        steps.append(id(self))
        original(self, params, grads)

    monkeypatch.setattr(Adam, "update_params", counting)
    small_gan(max_iter=1, batch_size=30, discriminator_steps=2, generator_steps=3).fit(X)
    # 10 discriminator steps (300 rows / 30), after every 2 of them 3 generator steps
    d = len([s for s in steps if s == steps[0]])
    assert d == 10 and len(steps) == 10 + 5 * 3


def test_diverging_epoch_stops_with_a_warning_and_the_last_sound_weights(digits, monkeypatch):
    X, _ = digits
    calls = {"n": 0}
    original = trainer_module.GANTrainer.generator_step

    def poisoned(self, n, C, fake=None):
        original(self, n, C, fake)
        calls["n"] += 1
        if calls["n"] == 3 * 5 + 2:          # within epoch 4 (5 batches an epoch)
            self.generator.params[0][0, 0] = np.nan

    monkeypatch.setattr(trainer_module.GANTrainer, "generator_step", poisoned)
    with pytest.warns(ConvergenceWarning, match="Diverged at epoch 4.*Kept the weights of "
                                                 "epoch 3"):
        gan = small_gan(max_iter=10, batch_size=60).fit(X)
    assert gan.n_iter_ == 3 and gan.best_epoch_ == 3
    monkeypatch.undo()
    ref = small_gan(max_iter=3, batch_size=60).fit(X)
    np.testing.assert_array_equal(gan.sample(5), ref.sample(5))


def test_a_collapsed_game_stops_with_a_warning(digits):
    """A discriminator far stronger than the generator (which hardly moves)
    soon rejects every generated sample: training stops instead of running on
    with a vanishing generator gradient."""
    X, _ = digits
    gan = small_gan(max_iter=200, learning_rate_init=1e-9, discriminator_learning_rate=1e-2,
                    label_smoothing=0.0, batch_size=100)
    with pytest.warns(ConvergenceWarning, match="Collapsed at epoch"):
        gan.fit(X)
    assert gan.n_iter_ < 200
    last = gan.history_[-trainer_module.COLLAPSE_EPOCHS:]
    assert all(h["d_fake"] < trainer_module.COLLAPSE_PROBABILITY for h in last)
    assert gan.best_epoch_ == gan.n_iter_ - trainer_module.COLLAPSE_EPOCHS


def test_ctrl_c_commits_the_last_batch_then_reraises(digits, monkeypatch):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("a custom SIGINT handler is installed")
    X, y = digits
    calls = {"n": 0}
    original = trainer_module.GANTrainer.generator_step

    def step(self, n, C, fake=None):
        original(self, n, C, fake)
        calls["n"] += 1
        if calls["n"] == 12:           # in epoch 3 (5 batches an epoch)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(trainer_module.GANTrainer, "generator_step", step)
    gan = small_gan(max_iter=10, batch_size=60)
    with pytest.warns(UserWarning, match="interrupted by the user"), \
            pytest.raises(KeyboardInterrupt):
        gan.fit(X, y)
    assert calls["n"] == 12                # stopped right after that batch
    assert gan.n_iter_ == len(gan.history_) == 2 and "KeyboardInterrupt" in gan.stop_reason_
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert gan.sample(3)[0].shape == (3, 64)   # the committed model is usable


@pytest.mark.skipif(not HAS_SKLEARN_CALLBACKS, reason="scikit-learn without sklearn.callback")
def test_callbacks_see_epochs_and_batches_and_can_stop(digits):
    class Counter:
        def __init__(self):
            self.ended, self.fitted = [], []

        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, **kwargs):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            self.ended.append(context.task_name)
            if context.task_name == "epoch":   # a frozen copy of the model so far
                self.fitted.append((fitted_estimator.n_iter_,
                                    fitted_estimator.sample(2).shape))
            return self.ended.count("epoch") == 3

    X, _ = digits
    counter = Counter()
    gan = small_gan(max_iter=10, batch_size=100).set_callbacks(counter).fit(X)
    assert gan.n_iter_ == 3 and gan.stop_reason_ == "a callback asked to stop."
    assert counter.ended.count("batch") == 3 * 3 and counter.ended.count("fit") == 1
    assert counter.fitted == [(1, (2, 64)), (2, (2, 64)), (3, (2, 64))]


# -------------------------------------------------------------- quality
def test_conditional_gan_learns_which_blob_each_class_is():
    """Two labelled 2-D blobs: samples asked of each class land on its blob,
    and look like it to a two-sample test."""
    X, y = make_blobs(600, centers=[[-4, 0], [4, 3]], cluster_std=0.7, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    gan = GenerativeAdversarialNetwork(latent_dim=4, max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        gan.fit(X_train, y_train)
    clf = LogisticRegression().fit(X_train, y_train)
    X_new, y_new = gan.sample(400, random_state=1)
    assert np.mean(clf.predict(X_new) == y_new) > 0.97
    assert c2st_score(X_test, X_new, random_state=0) < 0.75


@pytest.mark.slow
def test_conditional_digits_are_classified_as_requested():
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X / 16, y, test_size=0.3, random_state=0,
                                              stratify=y)
    clf = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    gan = GenerativeAdversarialNetwork(max_iter=150, random_state=0, dtype="float32")
    gan.fit(X_train, y_train)
    X_new, y_new = gan.sample(1000, y=np.repeat(np.arange(10), 100), random_state=0)
    assert np.mean(clf.predict(X_new) == y_new) >= 0.9
