"""The data objects as reference scripts and new scripts use them (no DDS)."""

import ctypes

import pytest

import sustainml_py
from sustainml_py import ErrorCode, Status, TaskStatus, CmdNode, CmdTask


def test_swig_style_accessors_read_and_write_every_kind_of_field():
    # Protects: obj.field() / obj.field(v) as the reference's SWIG proxies.
    u = sustainml_py.UserInput()
    u.problem_short_description("classify birds")
    u.inputs(["image", "label"])
    u.minimum_samples(10)
    u.previous_iteration(-1)
    u.desired_carbon_footprint(1.5)
    u.optimize_carbon_footprint_auto(True)
    assert u.problem_short_description() == "classify birds"
    assert u.inputs() == ["image", "label"]
    assert list(u.inputs()) == ["image", "label"]
    assert (u.minimum_samples(), u.previous_iteration(), u.desired_carbon_footprint()) == (10, -1, 1.5)
    assert u.optimize_carbon_footprint_auto() is True
    assert u.task_id().problem_id() == 0


def test_attribute_access_and_json_helpers():
    # Protects: the pythonic API beside the SWIG one.
    hw = sustainml_py.HWConstraints(max_memory_footprint=512)
    assert hw.max_memory_footprint == 512
    hw.hardware_required = ["PIM_AI_1chip"]
    assert hw.hardware_required == ["PIM_AI_1chip"]
    assert hw.hardware_required() == ["PIM_AI_1chip"]
    assert hw.extra_json() == {}
    hw.set_extra_json({"goal": "x", "n": [1, 2]})
    assert hw.extra_json() == {"goal": "x", "n": [1, 2]}
    hw.extra_data("not json")
    with pytest.raises(ValueError, match="HWConstraints.extra_data is not JSON"):
        hw.extra_json()
    hw.extra_data("[1]")
    with pytest.raises(ValueError, match="not an object"):
        hw.extra_json()


def test_extra_data_reads_through_ctypes_like_the_reference_template():
    # Protects: .size() / .get_buffer() with ctypes from_address, bytes(), len(), iteration.
    u = sustainml_py.UserInput()
    u.extra_data(b'{"hardware_required": "PIM_AI_1chip"}')
    buf = u.extra_data()
    n = buf.size()
    raw = (ctypes.c_ubyte * n).from_address(int(buf.get_buffer()))
    assert bytes(raw) == b'{"hardware_required": "PIM_AI_1chip"}'
    assert bytes(buf) == bytes(raw) and len(buf) == n and list(buf)[0] == ord("{")
    assert buf[0] == ord("{") and buf == bytes(raw)
    u.extra_data(bytearray(b"ab"))
    assert bytes(u.extra_data()) == b"ab"
    u.extra_data("é")
    assert u.extra_data().decode() == "é"
    # The reference's byte-by-byte read, and SWIG's vector constructor.
    import sustainml_swig

    u.extra_data(sustainml_swig.uint8_t_vector([123, 125]))
    data = u.extra_data()
    assert "".join(chr(data[i]) for i in range(data.size())) == "{}" and data[-1] == ord("}")
    with pytest.raises(IndexError):
        data[2]


def test_wrong_types_raise_type_error_naming_the_field():
    # Protects: a callback writing a wrong type learns which field.
    co2 = sustainml_py.CO2Footprint()
    with pytest.raises(TypeError, match="CO2Footprint.carbon_intensity: expected float, got str"):
        co2.carbon_intensity("4")
    with pytest.raises(TypeError, match="HWConstraints.hardware_required: expected a list of str"):
        sustainml_py.HWConstraints().hardware_required("PIM")
    with pytest.raises(TypeError, match="extra_data: expected bytes"):
        co2.extra_data(3.5)
    with pytest.raises(ValueError, match="max_memory_footprint"):
        sustainml_py.HWConstraints().max_memory_footprint(-1)
    with pytest.raises(AttributeError, match='no field "nope"'):
        co2.nope()
    co2.carbon_intensity(4)  # an int is a fine float, as in the reference's co2 example
    assert co2.carbon_intensity() == 4.0


def test_enums_come_from_sustainml_py_and_sustainml_swig():
    # Protects: `from sustainml_swig import ErrorCode` in reference scripts.
    import sustainml_swig

    for name in ["ErrorCode", "Status", "TaskStatus", "CmdNode", "CmdTask"]:
        assert getattr(sustainml_swig, name) is getattr(sustainml_py, name)
    assert ErrorCode.INTERNAL_ERROR == 1 and Status.NODE_IDLE == 2
    assert TaskStatus.TASK_ERROR == 1 and CmdNode.TERMINATE_NODE == 4 and CmdTask.PREEMPT_TASK == 3
    res = sustainml_py.ResponseType()
    res.err_code(ErrorCode.INTERNAL_ERROR)
    assert res.err_code() is ErrorCode.INTERNAL_ERROR
    res.err_code(0)
    assert res.err_code() is ErrorCode.NO_ERROR
    with pytest.raises(ValueError, match="ErrorCode has no value 7"):
        res.err_code(7)


def test_node_classes_live_in_modules_of_their_name():
    # Protects: the reference's import paths and constructor checks.
    import importlib

    for name in [
        "AppRequirementsNode", "HardwareConstraintsNode", "MLModelMetadataNode",
        "MLModelNode", "HardwareResourcesNode", "CarbonFootprintNode",
    ]:
        cls = getattr(importlib.import_module(f"sustainml_py.nodes.{name}"), name)
        with pytest.raises(ValueError, match="callback"):
            cls()
        node = cls(callback=lambda *args: None)
        assert node.name().endswith("_NODE")
        assert callable(cls.terminate)


def test_string_sequences_are_live_as_swig_vectors():
    # Protects: reference modules mutate sequences in place
    # (`ml_model_metadata.ml_model_metadata().append(goal)`, `lst.clear()`).
    md = sustainml_py.MLModelMetadata()
    md.ml_model_metadata().append("image-classification")
    assert md.ml_model_metadata() == ["image-classification"]
    lst = md.ml_model_metadata()
    lst.clear()
    lst.append("goal")
    lst += ["two"]
    assert md.ml_model_metadata() == ["goal", "two"]
    md.keywords.extend(["a", "b"])
    del md.keywords[0]
    assert md.keywords == ["b"] and md.to_dict()["keywords"] == ["b"]
    with pytest.raises(TypeError, match="MLModelMetadata.keywords item: expected str"):
        md.keywords().append(3)


def test_generic_nodes_check_their_definition():
    # Protects: GenericNode takes SustainML topics or (name, type) pairs, in callback
    # order, and refuses bad definitions with a ValueError naming what was wrong.
    from sustainml_py.nodes import GenericNode, generic
    from sustainml_py.nodes.GenericNode import GenericNode as FromModule

    assert GenericNode is FromModule
    f = lambda *args: None  # noqa: E731
    node = GenericNode("RANKER_NODE", ["/sustainml/user_input", ("/myorg/ranking", "MLModelImpl")],
                       ("/myorg/ranked", "CO2FootprintImpl"), callback=f)
    assert node.name() == "RANKER_NODE"
    assert node.inputs() == ["/sustainml/user_input", "/myorg/ranking"]
    assert node.output() == "/myorg/ranked"
    assert generic("R2_NODE", ["/sustainml/user_input"], "/sustainml/carbon_tracker/output", callback=f).output() \
        == "/sustainml/carbon_tracker/output"
    with pytest.raises(ValueError, match=r'input 0: unknown topic "/nope".*\(name, type_name\).*/sustainml/user_input'):
        GenericNode("R_NODE", ["/nope"], "/sustainml/carbon_tracker/output", callback=f)
    with pytest.raises(ValueError, match='carries "NodeStatusImpl", which is not a task data type'):
        GenericNode("R_NODE", [("/x", "NodeStatusImpl")], "/sustainml/carbon_tracker/output", callback=f)
    with pytest.raises(ValueError, match="/sustainml/status carries NodeStatusImpl, which is not a task data type"):
        GenericNode("R_NODE", ["/sustainml/user_input"], "/sustainml/status", callback=f)
    with pytest.raises(ValueError, match="/sustainml/user_input is given twice"):
        GenericNode("R_NODE", ["/sustainml/user_input"] * 2, "/sustainml/carbon_tracker/output", callback=f)
    with pytest.raises(ValueError, match="at least one input topic"):
        GenericNode("R_NODE", [], "/sustainml/carbon_tracker/output", callback=f)
    with pytest.raises(TypeError, match="a topic is a topic name \\(str\\) or a \\(name, type_name\\) tuple, not int"):
        GenericNode("R_NODE", [3], "/sustainml/carbon_tracker/output", callback=f)
    with pytest.raises(ValueError, match="service_callback needs node_id="):
        GenericNode("R_NODE", ["/sustainml/user_input"], "/sustainml/carbon_tracker/output", callback=f,
                    service_callback=f)
    with pytest.raises(ValueError, match="node_id=6 is not a NodeID"):
        GenericNode("R_NODE", ["/sustainml/user_input"], "/sustainml/carbon_tracker/output", callback=f,
                    node_id=6)
    with pytest.raises(ValueError, match="callback is required"):
        GenericNode("R_NODE", ["/sustainml/user_input"], "/sustainml/carbon_tracker/output")
