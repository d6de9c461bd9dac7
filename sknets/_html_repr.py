"""The HTML representation (Jupyter) of estimators and layers.

Two pieces of scikit-learn's own mechanism:

- the documentation link (``_HTMLDocumentationLinkMixin``):
  :class:`DocLinkMixin` points the "?" icon of every sknets estimator and
  layer at its page of the API reference, :data:`DOC_LINK_TEMPLATE` filled
  with the public path (``sknets.MLPClassifierScratch``,
  ``sknets.layers.Dense``) and the sknets version;
- the diagram (``_sk_visual_block_``): :class:`NetworkDiagramMixin` shows a
  network estimator as a box of its parameters around nested boxes, one per
  layer (:class:`LayerDiagramMixin`: named by its description, e.g.
  ``Dropout(0.2)``), as a :class:`~sklearn.pipeline.Pipeline` shows its steps. A fitted
  estimator shows its fitted network (the output layer included, with the
  layers' fitted attributes); an unfitted :class:`~sknets.NeuralNetClassifier`
  or :class:`~sknets.NeuralNetRegressor` shows its ``layers``, each under
  the nested-parameter name (``layers__<name>``) that ``set_params`` takes.
  An unfitted preset (its layers depend on the data) is one box.
"""

import sys

from sklearn.base import BaseEstimator
from sklearn.utils._repr_html.estimator import _VisualBlock

#: the URL of an API reference page; ``{path}`` is the public module
#: (``sknets`` or ``sknets.layers``), ``{name}`` the class, ``{version}``
#: sknets' version. Keep it in step with the documentation site's layout.
DOC_LINK_TEMPLATE = "https://sknets.readthedocs.io/en/{version}/api/{path}.{name}.html"


def public_path(cls):
    """The shortest module path from which ``cls`` is importable under its name
    (e.g. ``sknets`` for :class:`~sknets.MLPClassifierScratch`)."""
    parts = cls.__module__.split(".")
    for i in range(1, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is not None and getattr(module, cls.__name__, None) is cls:
            return ".".join(parts[:i])
    return cls.__module__


class DocLinkMixin:
    """Link the HTML representation to the API reference (scikit-learn's
    ``_doc_link_*`` attributes); put it before ``BaseEstimator``."""

    _doc_link_module = "sknets"
    _doc_link_template = DOC_LINK_TEMPLATE

    def _doc_link_url_param_generator(self):
        import sknets  # at call time: this module is imported while sknets is

        version = "latest" if "dev" in sknets.__version__ else sknets.__version__
        return {"version": version, "path": public_path(type(self)),
                "name": type(self).__name__}


class LayerDiagramMixin(DocLinkMixin):
    """A layer's box: named by its description (``Dense(8)``, ``Dropout(0.2)``),
    with its hyper-parameters and documentation link."""

    def _sk_visual_block_(self):
        return _VisualBlock("single", self, names=repr(self),
                            name_details=BaseEstimator.__repr__(self),
                            doc_link_label=type(self).__name__)


class NetworkDiagramMixin(DocLinkMixin):
    """Show a network estimator's layers as nested boxes (``_sk_visual_block_``),
    with the documentation link; put it before ``BaseEstimator``."""

    def _diagram_layers(self):
        """``[(name, layer)]`` to draw: the fitted network, else the given
        ``layers`` (NeuralNet*); empty for an unfitted preset."""
        network = getattr(self, "_network", None)
        if network is not None:
            layers = list(network.layers)
            names = [str(i) for i in range(len(layers) - 1)] + ["output"]
            named = getattr(self, "_named_layers", None)
            if named is not None:
                given = [name for name, _ in named(strict=False)]
                extra = len(layers) - 1 - len(given)   # a leading Reshape of flat rows
                if extra >= 0:
                    names = (["input"] * extra + [f"layers__{n}" for n in given] + ["output"])
            return list(zip(names, layers))
        if isinstance(getattr(self, "layers", None), (list, tuple)):
            return [(f"layers__{name}", layer)
                    for name, layer in self._named_layers(strict=False)]
        return []

    def _sk_visual_block_(self):
        layers = self._diagram_layers()
        if not layers:
            return _VisualBlock("single", self, names=type(self).__name__,
                                name_details=str(self))
        # The names only make the nested parameters' copy-paste prefix
        # (``layers__<name>__``); each box shows its layer's description.
        return _VisualBlock("serial", [layer for _, layer in layers],
                            names=[f"{name}: {type(layer).__name__}" for name, layer in layers],
                            name_details=[repr(layer) for _, layer in layers],
                            dash_wrapped=False)


class GANDiagramMixin(DocLinkMixin):
    """Show a GAN's two networks side by side, each as nested boxes of its
    layers: the fitted ``generator_`` and ``discriminator_`` (with the layers
    the estimator adds: ``input``, ``output``), else the given (or default)
    ``generator`` and ``discriminator``, each box under the nested-parameter
    name ``set_params`` takes; put it before ``BaseEstimator``."""

    def _network_block(self, param):
        given = self._named_layers(strict=False, param=param)
        network = vars(self).get(param + "_")
        if network is None:
            named = given
        else:
            layers = list(network.layers)
            # a Flatten the estimator puts before dense layers on image-like samples
            lead = int(bool(given) and len(layers) > len(given)
                       and type(layers[0]) is not type(given[0][1]))
            names = (["input"] * lead + [name for name, _ in given]
                     + ["output"] * max(0, len(layers) - lead - len(given)))
            named = list(zip(names, layers))
        return _VisualBlock("serial", [layer for _, layer in named],
                            names=[f"{name}: {type(layer).__name__}" for name, layer in named],
                            name_details=[repr(layer) for _, layer in named],
                            dash_wrapped=False)

    def _sk_visual_block_(self):
        return _VisualBlock("parallel", [self._network_block("generator"),
                                         self._network_block("discriminator")],
                            names=["generator", "discriminator"], name_details=["", ""])
