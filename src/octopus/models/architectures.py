"""Published DNN architectures with no library definition here, written from their papers and
reference code (random weights; only the GEMM shapes matter: :mod:`octopus.models.public`).

- :class:`YOLOv5`: YOLOv5 v6.0 (Ultralytics ``yolov5s.yaml``/``yolov5m.yaml``: Conv, C3, SPPF,
  the PANet head and a 3-level Detect of 3 anchors x 85 outputs), scaled by width and depth;
- :class:`MobileFaceNet`: Chen et al., "MobileFaceNets" (2018), table 1;
- :class:`FasterRCNNHeads`: torchvision's Faster R-CNN R50-FPN: a ResNet-50 (v1.5: stride on
  the 3x3) with FPN, the RPN head on five levels, and the two-layer box head and predictor on
  1,000 proposals (RoI pooling and NMS are not GEMMs and are left out);
- :class:`DecodeSteps`: GPT-2 (transformers) prefill of a prompt, then greedy decode steps with
  the KV cache;
- :class:`ConformerM`: Conformer-M (Gulati et al., 2020: d 256, 16 layers, 4 heads) as a 2-layer
  convolutional 4x subsampling (the paper's front end) and transformers'
  ``Wav2Vec2ConformerEncoder``;
- :class:`DLRMMLPs`: the MLPs and the dot interaction of DLRM (Naumov et al., 2019) in the
  MLPerf Criteo configuration (bottom 13-512-256-128, top 479-1024-1024-512-256-1).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

__all__ = ["ConformerM", "DLRMMLPs", "DecodeSteps", "FasterRCNNHeads", "MobileFaceNet", "YOLOv5"]


# --- YOLOv5 -------------------------------------------------------------------------------------
class _Conv(nn.Module):
    """Conv2d (no bias) + BatchNorm + SiLU, "same" padding by default."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, p: int | None = None,
                 groups: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, groups=groups,
                              bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class _Bottleneck(nn.Module):
    def __init__(self, c: int, shortcut: bool) -> None:
        super().__init__()
        self.cv1, self.cv2 = _Conv(c, c, 1), _Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class _C3(nn.Module):
    """CSP bottleneck with 3 convolutions."""

    def __init__(self, c1: int, c2: int, n: int, shortcut: bool = True) -> None:
        super().__init__()
        c = c2 // 2
        self.cv1, self.cv2, self.cv3 = _Conv(c1, c, 1), _Conv(c1, c, 1), _Conv(2 * c, c2, 1)
        self.m = nn.Sequential(*(_Bottleneck(c, shortcut) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class _SPPF(nn.Module):
    def __init__(self, c1: int, c2: int) -> None:
        super().__init__()
        c = c1 // 2
        self.cv1, self.cv2 = _Conv(c1, c, 1), _Conv(4 * c, c2, 1)
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.pool(x)
        y2 = self.pool(y1)
        return self.cv2(torch.cat((x, y1, y2, self.pool(y2)), 1))


class YOLOv5(nn.Module):
    """YOLOv5 v6.0 with channel multiplier ``width`` and repeat multiplier ``depth``
    (``s``: 0.50, 0.33; ``m``: 0.75, 0.67); ``(B, 3, H, W)`` -> 3 detection maps."""

    def __init__(self, width: float, depth: float, classes: int = 80) -> None:
        super().__init__()

        def ch(c: int) -> int:
            return math.ceil(c * width / 8) * 8

        def rep(n: int) -> int:
            return max(round(n * depth), 1)

        self.b0 = _Conv(3, ch(64), 6, 2, 2)
        self.b1 = _Conv(ch(64), ch(128), 3, 2)
        self.b2 = _C3(ch(128), ch(128), rep(3))
        self.b3 = _Conv(ch(128), ch(256), 3, 2)
        self.b4 = _C3(ch(256), ch(256), rep(6))
        self.b5 = _Conv(ch(256), ch(512), 3, 2)
        self.b6 = _C3(ch(512), ch(512), rep(9))
        self.b7 = _Conv(ch(512), ch(1024), 3, 2)
        self.b8 = _C3(ch(1024), ch(1024), rep(3))
        self.b9 = _SPPF(ch(1024), ch(1024))
        self.h10 = _Conv(ch(1024), ch(512), 1)
        self.h13 = _C3(2 * ch(512), ch(512), rep(3), shortcut=False)
        self.h14 = _Conv(ch(512), ch(256), 1)
        self.h17 = _C3(2 * ch(256), ch(256), rep(3), shortcut=False)
        self.h18 = _Conv(ch(256), ch(256), 3, 2)
        self.h20 = _C3(2 * ch(256), ch(512), rep(3), shortcut=False)
        self.h21 = _Conv(ch(512), ch(512), 3, 2)
        self.h23 = _C3(2 * ch(512), ch(1024), rep(3), shortcut=False)
        self.detect = nn.ModuleList(nn.Conv2d(c, 3 * (classes + 5), 1)
                                    for c in (ch(256), ch(512), ch(1024)))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        p3 = self.b4(self.b3(self.b2(self.b1(self.b0(x)))))
        p4 = self.b6(self.b5(p3))
        x10 = self.h10(self.b9(self.b8(self.b7(p4))))
        x14 = self.h14(self.h13(torch.cat((self.up(x10), p4), 1)))
        out3 = self.h17(torch.cat((self.up(x14), p3), 1))
        out4 = self.h20(torch.cat((self.h18(out3), x14), 1))
        out5 = self.h23(torch.cat((self.h21(out4), x10), 1))
        return [d(o) for d, o in zip(self.detect, (out3, out4, out5), strict=True)]


# --- MobileFaceNet --------------------------------------------------------------------------------
class _InvertedResidual(nn.Module):
    """MobileNetV2 bottleneck: 1x1 expand by ``t``, 3x3 depthwise with stride, 1x1 project."""

    def __init__(self, c1: int, c2: int, s: int, t: int) -> None:
        super().__init__()
        h = c1 * t
        self.block = nn.Sequential(_Conv(c1, h, 1), _Conv(h, h, 3, s, groups=h),
                                   _Conv(h, c2, 1, act=False))
        self.add = s == 1 and c1 == c2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.add else y


class MobileFaceNet(nn.Module):
    """``(B, 3, 112, 112)`` -> ``(B, 128)`` face embeddings (table 1 of the paper)."""

    SETTINGS = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1))

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [_Conv(3, 64, 3, 2), _Conv(64, 64, 3, 1, groups=64)]
        c = 64
        for t, c2, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(_InvertedResidual(c, c2, s if i == 0 else 1, t))
                c = c2
        layers += [_Conv(c, 512, 1), _Conv(512, 512, 7, 1, 0, groups=512, act=False),
                   _Conv(512, 128, 1, act=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)


# --- Faster R-CNN R50-FPN -------------------------------------------------------------------------
class _ResBottleneck(nn.Module):
    def __init__(self, c1: int, width: int, stride: int) -> None:
        super().__init__()
        c2 = 4 * width
        self.body = nn.Sequential(_Conv(c1, width, 1), _Conv(width, width, 3, stride),
                                  _Conv(width, c2, 1, act=False))
        self.down = _Conv(c1, c2, 1, stride, act=False) if stride != 1 or c1 != c2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.down(x) if self.down is not None else x
        return torch.relu(self.body(x) + skip)


class FasterRCNNHeads(nn.Module):
    """ResNet-50 + FPN (256 channels) + RPN head (3 anchors) + box head on ``proposals`` RoIs
    of 256 x 7 x 7 (class-specific boxes for 91 COCO classes)."""

    def __init__(self, proposals: int = 1000, classes: int = 91) -> None:
        super().__init__()
        self.proposals = proposals
        self.stem = _Conv(3, 64, 7, 2)
        stages, c = [], 64
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            stages.append(nn.Sequential(*(_ResBottleneck(c if i == 0 else 4 * width, width,
                                                          stride if i == 0 else 1)
                                          for i in range(blocks))))
            c = 4 * width
        self.stages = nn.ModuleList(stages)
        self.inner = nn.ModuleList(nn.Conv2d(c, 256, 1) for c in (256, 512, 1024, 2048))
        self.outer = nn.ModuleList(nn.Conv2d(256, 256, 3, padding=1) for _ in range(4))
        self.rpn_conv = nn.Conv2d(256, 256, 3, padding=1)
        self.rpn_cls, self.rpn_box = nn.Conv2d(256, 3, 1), nn.Conv2d(256, 12, 1)
        self.fc6, self.fc7 = nn.Linear(256 * 7 * 7, 1024), nn.Linear(1024, 1024)
        self.cls, self.box = nn.Linear(1024, classes), nn.Linear(1024, 4 * classes)

    def forward(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = nn.functional.max_pool2d(self.stem(img), 3, 2, 1)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        pyramid = [self.inner[3](feats[3])]
        for i in (2, 1, 0):  # top-down: upsample the coarser level and add the lateral
            up = nn.functional.interpolate(pyramid[0], size=feats[i].shape[-2:], mode="nearest")
            pyramid.insert(0, self.inner[i](feats[i]) + up)
        levels = [conv(p) for conv, p in zip(self.outer, pyramid, strict=True)]
        levels.append(nn.functional.max_pool2d(levels[-1], 1, 2))  # P6
        for p in levels:
            h = torch.relu(self.rpn_conv(p))
            self.rpn_cls(h), self.rpn_box(h)
        rois = img.new_empty(self.proposals, 256 * 7 * 7)  # RoIAlign output (not a GEMM)
        h = torch.relu(self.fc7(torch.relu(self.fc6(rois))))
        return self.cls(h), self.box(h)


# --- GPT-2 decoding -------------------------------------------------------------------------------
class DecodeSteps(nn.Module):
    """GPT-2 (transformers ``GPT2LMHeadModel``) on a ``prompt``-token prompt (logits of its last
    token only), then ``decode`` greedy steps of one token with the KV cache."""

    def __init__(self, layers: int, width: int, heads: int, prompt: int, decode: int) -> None:
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel

        self.lm = GPT2LMHeadModel(GPT2Config(n_layer=layers, n_embd=width, n_head=heads))
        self.prompt, self.decode = prompt, decode

    def forward(self) -> torch.Tensor:
        ids = torch.zeros(1, self.prompt, dtype=torch.int64)
        out = self.lm(input_ids=ids, use_cache=True, logits_to_keep=1)
        for _ in range(self.decode):
            token = out.logits[:, -1:].argmax(-1)
            out = self.lm(input_ids=token, cache=out.cache, use_cache=True)
        return out.logits


# --- Conformer-M ----------------------------------------------------------------------------------
class ConformerM(nn.Module):
    """``(B, frames, 80)`` log-mel features -> ``(B, frames / 4, 256)``: two 3x3 stride-2
    convolutions (256 channels), a linear projection, 16 Conformer blocks."""

    def __init__(self, features: int = 80, d: int = 256, layers: int = 16, heads: int = 4) -> None:
        super().__init__()
        from transformers import Wav2Vec2ConformerConfig
        from transformers.models.wav2vec2_conformer.modeling_wav2vec2_conformer import (
            Wav2Vec2ConformerEncoder,
        )

        self.sub = nn.Sequential(nn.Conv2d(1, d, 3, 2), nn.ReLU(), nn.Conv2d(d, d, 3, 2),
                                 nn.ReLU())
        self.proj = nn.Linear(d * (((features - 1) // 2 - 1) // 2), d)
        config = Wav2Vec2ConformerConfig(hidden_size=d, num_hidden_layers=layers,
                                         num_attention_heads=heads, intermediate_size=4 * d,
                                         conv_depthwise_kernel_size=31,
                                         position_embeddings_type="relative",
                                         attn_implementation="eager")
        self.encoder = Wav2Vec2ConformerEncoder(config)

    def forward(self, mels: torch.Tensor) -> Any:
        x = self.sub(mels.unsqueeze(1))
        b, c, t, f = x.shape
        x = self.proj(x.permute(0, 2, 1, 3).reshape(b, t, c * f))
        return self.encoder(x).last_hidden_state


# --- DLRM -----------------------------------------------------------------------------------------
class DLRMMLPs(nn.Module):
    """DLRM without its embedding lookups: ``(dense (B, 13), embedded (B, 26, 128))`` ->
    click probability ``(B, 1)``."""

    def __init__(self) -> None:
        super().__init__()

        def mlp(sizes: tuple[int, ...]) -> nn.Sequential:
            layers: list[nn.Module] = []
            for a, b in zip(sizes, sizes[1:], strict=False):
                layers += [nn.Linear(a, b), nn.ReLU()]
            return nn.Sequential(*layers[:-1])

        self.bottom = mlp((13, 512, 256, 128))
        self.top = mlp((128 + 27 * 26 // 2, 1024, 1024, 512, 256, 1))

    def forward(self, dense: torch.Tensor, embedded: torch.Tensor) -> torch.Tensor:
        x = self.bottom(dense)
        z = torch.cat((x.unsqueeze(1), embedded), 1)  # (B, 27, 128)
        dots = torch.bmm(z, z.transpose(1, 2))
        i, j = torch.triu_indices(27, 27, 1)
        return torch.sigmoid(self.top(torch.cat((x, dots[:, i, j]), 1)))
