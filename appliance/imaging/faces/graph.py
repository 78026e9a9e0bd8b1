"""A small builder of ONNX graphs for face-api's nets (detector.py, recogniser.py): TensorFlow.js
weights in, named nodes out. Imported only by the child process that builds the models (native.py)."""

from __future__ import annotations

import numpy as np
from onnx import ModelProto, TensorProto, checker, helper, numpy_helper

OPSET = 13


class Graph:
    """Nodes and initializers of a graph being built; every method returns its output's name."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []

    def constant(self, value: np.ndarray) -> str:
        name = f"c{len(self.initializers)}"
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def floats(self, value: float) -> str:
        return self.constant(np.array(value, np.float32))

    def ints(self, *values: int) -> str:
        return self.constant(np.array(values, np.int64))

    def op(self, kind: str, *inputs: str, name: str | None = None, **attributes: object) -> str:
        """A node with one output (``name``: a graph output's name)."""
        return self.ops(kind, list(inputs), [name or f"t{len(self.nodes)}"], **attributes)[0]

    def ops(self, kind: str, inputs: list[str], outputs: list[str], **attributes: object) -> list[str]:
        self.nodes.append(helper.make_node(kind, inputs, outputs, **attributes))
        return outputs

    def conv(self, x: str, hwio: np.ndarray, bias: np.ndarray, stride: int, *, same: bool = True,
             depthwise: bool = False) -> str:
        """A TensorFlow convolution (filters [h, w, in, out], or [h, w, in, 1] depthwise) with its bias,
        padding "same" (TensorFlow's: the extra row and column at the end) or "valid"."""
        if depthwise:
            kernel, groups = hwio.transpose(2, 3, 0, 1), hwio.shape[2]
        else:
            kernel, groups = hwio.transpose(3, 2, 0, 1), 1
        weights, offsets = self.constant(kernel.astype(np.float32)), self.constant(bias.astype(np.float32))
        return self.op("Conv", x, weights, offsets, strides=[stride, stride],
                       auto_pad="SAME_UPPER" if same else "VALID", group=groups)

    def model(self, name: str, inputs: dict[str, list], outputs: dict[str, list]) -> ModelProto:
        """The graph as a checked model (float inputs and outputs with their shapes)."""
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in inputs.items()],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in outputs.items()],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        checker.check_model(model)
        return model
