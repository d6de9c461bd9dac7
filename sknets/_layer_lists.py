"""Nested parameters of estimators that take lists of layers.

An estimator parameter that is a list of :mod:`sknets.layers` specifications
(``NeuralNetClassifier(layers=...)``, the GAN's ``generator`` and
``discriminator``) exposes each layer and its hyper-parameters as nested
parameters, as a :class:`~sklearn.pipeline.Pipeline` does its steps:
``layers__1__rate`` (by position) or ``layers__drop__rate`` (by the name of
a ``("drop", Dropout(0.5))`` entry). :class:`LayerListsMixin` gives
``get_params``/``set_params`` that do so for every parameter named in its
``_layer_lists``.
"""

from sklearn.base import clone

from .layers import Layer


class LayerListsMixin:
    """``get_params``/``set_params`` with nested layer parameters (a mixin).

    Subclasses set ``_layer_lists``: a dict from each layer-list parameter
    name to a function returning its default layers (used when the
    parameter is None).
    """

    _layer_lists: dict = {}

    def _named_layers(self, strict=True, param="layers"):
        """``[(name, layer)]`` of the list ``param``: given names, else positions.

        With ``strict``, a malformed entry or a repeated name is a
        ``TypeError``/``ValueError``; otherwise it is skipped.
        """
        value = getattr(self, param)
        entries = self._layer_lists[param]() if value is None else list(value)
        named = []
        for i, entry in enumerate(entries):
            name, layer = (entry if isinstance(entry, tuple) and len(entry) == 2
                           else (str(i), entry))
            if not isinstance(layer, Layer) or not isinstance(name, str):
                if strict:
                    raise TypeError(
                        f"{param}[{i}] must be an sknets.layers layer or a (name, layer) "
                        f"pair, got {entry!r}."
                    )
                continue
            named.append((name, layer))
        names = [name for name, _ in named]
        if strict:
            for i, name in enumerate(names):
                if not name or "__" in name or (name.isdigit() and name != str(i)):
                    raise ValueError(
                        f"{param}[{i}] is named {name!r}: a layer's name must be non-empty, "
                        "without '__', and not the position of another layer."
                    )
            if len(set(names)) != len(names):
                raise ValueError(f"The names of the layers in {param} must be unique, "
                                 f"got {names}.")
        return named

    def _cloned_layers(self, param="layers"):
        """New copies of the layers of ``param`` (the specifications stay untouched)."""
        return [clone(layer) for _, layer in self._named_layers(param=param)]

    def get_params(self, deep=True):
        """Parameters of the estimator and, with ``deep``, of each layer.

        Parameters
        ----------
        deep : bool, default=True
            Also return each layer of a layer-list parameter ``p`` as
            ``p__<name>`` and its hyper-parameters as ``p__<name>__<param>``,
            where ``<name>`` is the layer's given name or its position.

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=False)
        if not deep:
            return params
        for param in self._layer_lists:
            if isinstance(getattr(self, param), (list, tuple)):
                for name, layer in self._named_layers(strict=False, param=param):
                    params[f"{param}__{name}"] = layer
                    for key, value in layer.get_params(deep=True).items():
                        params[f"{param}__{name}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set the estimator's parameters, and its layers' by nested names.

        ``<p>__<name>__<param>`` sets a hyper-parameter of a layer of the
        layer-list parameter ``p`` (the layer object is changed, as a
        ``Pipeline``'s steps are); ``<p>__<name>`` replaces the layer.

        Returns
        -------
        self : estimator

        Raises
        ------
        ValueError
            If a name matches no layer or a parameter is unknown.
        """
        for param in self._layer_lists:
            if param in params:
                super().set_params(**{param: params.pop(param)})
        for param in self._layer_lists:
            prefix = param + "__"
            nested = {k: params.pop(k) for k in list(params) if k.startswith(prefix)}
            for key, value in nested.items():
                name, _, sub = key[len(prefix):].partition("__")
                index = self._layer_position(param, name)
                entries = list(getattr(self, param))
                if sub:
                    named = isinstance(entries[index], tuple)
                    (entries[index][1] if named else entries[index]).set_params(**{sub: value})
                else:
                    entries[index] = (name, value) if isinstance(entries[index], tuple) else value
                    setattr(self, param, type(getattr(self, param))(entries))
        return super().set_params(**params)

    def _layer_position(self, param, name):
        layers = getattr(self, param)
        if isinstance(layers, (list, tuple)):
            for i, entry in enumerate(layers):
                given = entry[0] if isinstance(entry, tuple) and len(entry) == 2 else None
                if name == given or (given is None and name == str(i)):
                    return i
        raise ValueError(
            f"Invalid parameter {param}__{name} for estimator {type(self).__name__}: no layer "
            f"named or at position {name!r} in {param}. Check the list of available "
            "parameters with `estimator.get_params().keys()`."
        )
