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


def padded_onnx(blob: bytes, megabytes: float) -> bytes:
    """The same model made bigger by an initializer no node uses (a download worth watching)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(blob)
    model.graph.initializer.append(numpy_helper.from_array(
        np.zeros(int(megabytes * 2**20) // 4, dtype=np.float32), "unused_padding"))
    return model.SerializeToString()


def yunet_outputs(input_hw=(64, 64), face_cell=(3, 4), stride=8, size_cells=(2.0, 2.5), score=0.95):
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
    # mid-range displacements that lead along the skeleton from each part's peak to the next part's
    from models.posenet import POSENET_EDGES

    fwd, bwd = np.zeros((1, 32, gh, gw)), np.zeros((1, 32, gh, gw))
    for e, (parent, child) in enumerate(POSENET_EDGES):
        (pr, pc), (cr, cc) = peaks[parent], peaks[child]
        fwd[0, e, pr, pc], fwd[0, e + 16, pr, pc] = (cr - pr) * 16, (cc - pc) * 16
        bwd[0, e, cr, cc], bwd[0, e + 16, cr, cc] = (pr - cr) * 16, (pc - cc) * 16
    return {"heatmaps": hm, "offsets": off, "displacement_fwd": fwd, "displacement_bwd": bwd}, peaks


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


def ssd_outputs(n_anchors: int, values: int, hits: dict[int, tuple[float, list[float]]]) -> dict[str, np.ndarray]:
    """An SSD detector's two outputs (regressors (1, N, values), score logits (1, N, 1)): nothing anywhere
    except the anchors in ``hits`` (index -> (logit, regressor row))."""
    reg = np.zeros((1, n_anchors, values))
    logits = np.full((1, n_anchors, 1), -10.0)
    for i, (logit, row) in hits.items():
        logits[0, i, 0] = logit
        reg[0, i, :len(row)] = row
    return {"regressors": reg, "scores": logits}


def palm_detector_onnx(hits) -> bytes:
    from onnx import TensorProto

    return onnx_constant_model({"input": ([1, 192, 192, 3], TensorProto.FLOAT)}, ssd_outputs(2016, 18, hits))


def hand_landmark_onnx(points: np.ndarray, presence: float, right: float) -> bytes:
    """21 landmarks (x, y, z in 224-pixel crop coordinates), presence, handedness, world landmarks."""
    from onnx import TensorProto

    outs = {"landmarks": np.asarray(points).reshape(1, 63), "presence": np.full((1, 1), presence),
            "handedness": np.full((1, 1), right), "world": np.zeros((1, 63))}
    return onnx_constant_model({"input": ([1, 224, 224, 3], TensorProto.FLOAT)}, outs)


def person_detector_onnx(hits) -> bytes:
    from onnx import TensorProto

    return onnx_constant_model({"input": ([1, 3, 224, 224], TensorProto.FLOAT)}, ssd_outputs(2254, 12, hits))


def pose_landmark_onnx(points: np.ndarray, presence: float) -> bytes:
    """39 x (x, y, z, visibility logit, presence logit) in 256-pixel crop coordinates, presence, world."""
    from onnx import TensorProto

    outs = {"landmarks": np.asarray(points).reshape(1, 195), "presence": np.full((1, 1), presence),
            "world": np.zeros((1, 117))}
    return onnx_constant_model({"input": ([1, 256, 256, 3], TensorProto.FLOAT)}, outs)


def tiny_vitpose_repo(folder: Path) -> dict[str, bytes]:
    """A random-weight ViTPose (17 COCO keypoints, 64x48 input) saved with save_pretrained."""
    import torch
    from transformers import VitPoseBackboneConfig, VitPoseConfig, VitPoseForPoseEstimation, VitPoseImageProcessorPil

    torch.manual_seed(0)
    backbone = VitPoseBackboneConfig(image_size=[64, 48], patch_size=[16, 16], hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, out_indices=[2])
    cfg = VitPoseConfig(backbone_config=backbone, use_simple_decoder=True)
    cfg.id2label = {i: f"keypoint_{i}" for i in range(17)}
    VitPoseForPoseEstimation(cfg).eval().save_pretrained(folder)
    VitPoseImageProcessorPil(size={"height": 64, "width": 48}).save_pretrained(folder)
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def tiny_rtdetr_repo(folder: Path, labels=("person", "cat"), favour: int = 0) -> dict[str, bytes]:
    """A random-weight RT-DETR whose class heads favour class ``favour`` (so it 'finds' it everywhere)."""
    import torch
    from transformers import RTDetrConfig, RTDetrForObjectDetection, RTDetrImageProcessorPil, RTDetrResNetConfig

    torch.manual_seed(0)
    backbone = RTDetrResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1],
                                  layer_type="basic", out_features=["stage2", "stage3", "stage4"])
    cfg = RTDetrConfig(backbone_config=backbone, encoder_hidden_dim=16, encoder_in_channels=[16, 24, 32], d_model=16,
                       encoder_ffn_dim=32, decoder_ffn_dim=32, decoder_layers=1, encoder_layers=1, num_queries=10,
                       decoder_attention_heads=2, encoder_attention_heads=2, num_labels=len(labels),
                       decoder_in_channels=[16, 16, 16], num_feature_levels=3, num_denoising=0)
    cfg.id2label = dict(enumerate(labels))
    cfg.label2id = {v: k for k, v in cfg.id2label.items()}
    model = RTDetrForObjectDetection(cfg).eval()
    with torch.no_grad():
        for head in [*model.model.decoder.class_embed, model.model.enc_score_head]:
            head.bias.fill_(-10.0)
            head.bias[favour] = 10.0
    model.save_pretrained(folder)
    RTDetrImageProcessorPil(size={"height": 64, "width": 64}).save_pretrained(folder)
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
