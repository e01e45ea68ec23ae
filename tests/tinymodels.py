"""Tiny models the tests make themselves: ONNX graphs in each family's output format (onnx.helper),
and random-weight transformers models saved with save_pretrained."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def onnx_constant_model(inputs: dict[str, tuple[list[int], int]], outputs: dict[str, np.ndarray]) -> bytes:
    """A graph whose outputs are fixed arrays: the format of a family's outputs with known contents."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, outs = [], []
    for name, arr in outputs.items():
        arr = np.asarray(arr, dtype=np.float32)
        nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(arr, name + "_value")))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(arr.shape)))
    ins = [helper.make_tensor_value_info(n, dtype, shape) for n, (shape, dtype) in inputs.items()]
    graph = helper.make_graph(nodes, "tiny", ins, outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def yunet_outputs(input_hw=(64, 64), face_cell=(3, 4), stride=8, size_cells=(2.0, 2.5), score=0.9):
    """YuNet's 12 outputs with one face centred on cell (row, col) of stride ``stride``."""
    h, w = input_hw
    out = {}
    for s in (8, 16, 32):
        n = (h // s) * (w // s)
        out[f"cls_{s}"] = np.zeros((1, n, 1))
        out[f"obj_{s}"] = np.zeros((1, n, 1))
        out[f"bbox_{s}"] = np.zeros((1, n, 4))
        out[f"kps_{s}"] = np.zeros((1, n, 10))
    r, c = face_cell
    i = r * (w // stride) + c
    out[f"cls_{stride}"][0, i, 0] = score
    out[f"obj_{stride}"][0, i, 0] = score
    out[f"bbox_{stride}"][0, i] = [0.5, 0.5, np.log(size_cells[0]), np.log(size_cells[1])]
    out[f"kps_{stride}"][0, i] = [0.2, 0.3, 0.8, 0.3, 0.5, 0.5, 0.3, 0.8, 0.7, 0.8]
    return out


def yunet_onnx(input_hw=(64, 64)) -> bytes:
    from onnx import TensorProto

    return onnx_constant_model({"input": ([1, 3, *input_hw], TensorProto.FLOAT)}, yunet_outputs(input_hw))


def posenet_outputs(grid_hw=(5, 3), peaks=None):
    """Heatmap logits with one peak per keypoint, and offsets of (+3 px down, +2 px right) everywhere."""
    gh, gw = grid_hw
    hm = np.full((1, 17, gh, gw), -6.0)
    peaks = peaks or [(k % gh, k % gw) for k in range(17)]
    for k, (r, c) in enumerate(peaks):
        hm[0, k, r, c] = 4.0
    off = np.zeros((1, 34, gh, gw))
    off[0, :17] = 3.0
    off[0, 17:] = 2.0
    return {"heatmaps": hm, "offsets": off, "displacement_fwd": np.zeros((1, 32, gh, gw)),
            "displacement_bwd": np.zeros((1, 32, gh, gw))}, peaks


def posenet_onnx(input_wh=(33, 65)) -> bytes:
    from onnx import TensorProto

    w, h = input_wh
    outs, _ = posenet_outputs(((h - 1) // 16 + 1, (w - 1) // 16 + 1))
    return onnx_constant_model({"image": ([1, 3, h, w], TensorProto.FLOAT)}, outs)


def movenet_onnx() -> bytes:
    from onnx import TensorProto

    kp = np.zeros((1, 1, 17, 3))
    kp[0, 0, :, 0] = np.linspace(0.2, 0.9, 17)  # y
    kp[0, 0, :, 1] = 0.5  # x
    kp[0, 0, :, 2] = 0.8
    return onnx_constant_model({"input": ([1, 192, 192, 3], TensorProto.INT32)}, {"output_0": kp})


def pphumanseg_onnx(hw=(192, 192)) -> bytes:
    from onnx import TensorProto

    logits = np.zeros((1, 2, *hw))
    logits[0, 1, :, hw[1] // 2:] = 5.0  # the right half is a person
    logits[0, 1, :, :hw[1] // 2] = -5.0
    return onnx_constant_model({"x": ([1, 3, *hw], TensorProto.FLOAT)}, {"save_infer_model/scale_0.tmp_1": logits})


def tiny_segmentation_repo(folder: Path, labels=("background", "person")) -> dict[str, bytes]:
    """A random-weight MobileNetV2 semantic segmentation model saved with save_pretrained."""
    import torch
    from transformers import MobileNetV2Config, MobileNetV2ForSemanticSegmentation, MobileNetV2ImageProcessor

    torch.manual_seed(0)
    cfg = MobileNetV2Config(image_size=64, depth_multiplier=0.35, num_labels=len(labels),
                            id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = MobileNetV2ForSemanticSegmentation(cfg).eval()
    model.save_pretrained(folder, safe_serialization=True)
    MobileNetV2ImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}).save_pretrained(folder)
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}
