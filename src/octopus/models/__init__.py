"""Model collections in plain torch (random weights, nothing downloaded).

- :mod:`~octopus.models.registry`: the models a workflow's ``torch_model`` may name, built from
  ``(name, input_shape, dtype)`` on the ``meta`` device (:func:`build_known`);
- :mod:`~octopus.models.families`: the AutoChunk benchmark families built by sequence length;
- the modules themselves: :mod:`~octopus.models.gpt`, :mod:`~octopus.models.vit`,
  :mod:`~octopus.models.evoformer`, :mod:`~octopus.models.unet` (on the shared
  :mod:`~octopus.models.layers`) and :mod:`~octopus.models.zoo` (encoder, convnet, MLP).

Imports only torch, and only when a model is built: ``import octopus.models`` stays cheap.
"""

from octopus.models.registry import KNOWN_MODELS, KnownModel, build_known

__all__ = ["KNOWN_MODELS", "KnownModel", "build_known"]
