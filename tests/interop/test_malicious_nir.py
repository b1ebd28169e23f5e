"""A hostile NIR file is refused by ``from_nir`` in one line, before it reads what it must not (a drill).

Each file is a genuine export of the toy PLIF net, tampered with through h5py. Where nir's own
reader (or libhdf5 itself) would take the bait, the test shows it does first, so the refusal
is of a file that really is hostile.
"""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest
import torch

from spikedyn.interop import NIRImportError, from_nir, write_nir
from spikedyn.interop.importer import _layer_makers
from spikedyn.interop.nir_limits import NIRLimits
from spikedyn.interop.nir_reader import read_nir
from spikedyn.interop.nir_schema import NODE_FIELDS
from tests.interop.hostile_nir import (NODES, SHAPE, WEIGHT, exported, gzip_stream, loose_nodes, nest, patch, replace,
                                       secret_file, secret_h5, set_values, string_elements, tampered)  # fmt: skip

pytestmark = pytest.mark.drill
DT = 1e-4


def refusal(graph: nir.NIRGraph | Path, **options: object) -> str:
    """The message of the NIRImportError ``from_nir`` raises for ``graph``, checked to be one line."""
    with pytest.raises(NIRImportError) as caught:
        from_nir(graph, DT, **options)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(file, dataset) of every dataset h5py reads while the test runs."""
    seen: list[tuple[str, str]] = []
    for method in ("__getitem__", "read_direct", "__array__"):
        original = getattr(h5py.Dataset, method)

        def spy(self: h5py.Dataset, *args: object, _original=original, **kwargs: object) -> object:
            seen.append((self.file.filename, self.name))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(h5py.Dataset, method, spy)
    return seen


def _external_storage(file: h5py.File, folder: Path) -> None:
    replace(file, WEIGHT, shape=SHAPE, dtype="<f4", external=[(str(folder / "secret.bin"), 0, h5py.h5f.UNLIMITED)])


def _external_link(file: h5py.File, folder: Path) -> None:
    del file[WEIGHT]
    file[WEIGHT] = h5py.ExternalLink(str(folder / "other.h5"), "/w")


def _soft_link(file: h5py.File, folder: Path) -> None:
    with h5py.File(folder / "other.h5", "r") as other:
        file["outside"] = other["w"][()]  # a copy of the secret outside the graph
    del file[WEIGHT]
    file[WEIGHT] = h5py.SoftLink("/outside")


def _virtual(file: h5py.File, folder: Path) -> None:
    layout = h5py.VirtualLayout(shape=SHAPE, dtype="<f4")
    layout[:] = h5py.VirtualSource(str(folder / "other.h5"), "w", shape=SHAPE)
    del file[WEIGHT]
    file.create_virtual_dataset(WEIGHT, layout)


@pytest.mark.parametrize("tamper, how", [
    (_external_storage, "is stored outside the file (external storage in"),
    (_external_link, "is an external link to"),
    (_soft_link, "is a soft link to '/outside'"),
    (_virtual, "is a virtual dataset"),
], ids=["external-storage", "external-link", "soft-link", "virtual"])  # fmt: skip
def test_data_from_outside_the_file_is_refused_before_it_is_read(tmp_path, reads, tamper, how):
    _, secret = secret_file(tmp_path)
    secret_h5(tmp_path, secret)
    path = tampered(tmp_path / "model.nir", lambda file: tamper(file, tmp_path))
    with h5py.File(path, "r") as file:  # h5py follows it: the weights would be the secret
        assert file[WEIGHT][()].tobytes() == secret[:72]
    reads.clear()
    message = refusal(path)
    assert f"{path}: node 'classifier_7' (Linear) field 'weight' {how}" in message
    assert "spikedyn reads only" in message
    assert all(name != "/" + WEIGHT and file == str(path) for file, name in reads), reads
    assert secret.decode()[:12] not in message


def test_a_graph_group_linked_from_another_file_is_refused(tmp_path):
    elsewhere = exported(tmp_path / "elsewhere.nir")

    def link_graph(file: h5py.File) -> None:
        del file["node"]
        file["node"] = h5py.ExternalLink(str(elsewhere), "/node")

    path = tampered(tmp_path / "model.nir", link_graph)
    assert nir.read(path).nodes.keys() == nir.read(elsewhere).nodes.keys()  # nir's reader reads the other file's graph
    assert f"the graph group 'node' is an external link to '{elsewhere}':'/node'" in refusal(path)


def test_nirs_own_reader_takes_the_secret_into_the_weights(tmp_path):
    _, secret = secret_file(tmp_path)
    path = tampered(tmp_path / "model.nir", lambda file: _external_storage(file, tmp_path))
    assert nir.read(path, type_check=False).nodes["classifier_7"].weight.tobytes() == secret[:72]  # why from_nir reads for itself


def test_a_huge_declared_weight_is_refused_from_its_metadata(tmp_path, reads):
    def bomb(file: h5py.File) -> None:
        replace(file, WEIGHT, shape=(10, 80_000_000), dtype="<f4", compression="gzip", chunks=(1, 1_000_000))
        file[WEIGHT][0, :10] = 1.0  # one stored chunk; the rest reads as zeros, 3.2 GB of them

    path = tampered(tmp_path / "bomb.nir", bomb)
    assert path.stat().st_size < 1_000_000
    message = refusal(path)
    assert "node 'classifier_7' (Linear) field 'weight' declares shape (10, 80000000) of float32 (3,200,000,000 bytes)" in message
    assert "NIRLimits.max_array_elements = 268,435,456" in message
    assert all(name != "/" + WEIGHT for _, name in reads), reads


def test_a_gzip_chunk_that_inflates_past_its_chunk_is_refused(tmp_path):
    def bomb(file: h5py.File) -> None:
        replace(file, WEIGHT, shape=SHAPE, dtype="<f4", compression="gzip", chunks=SHAPE)
        file[WEIGHT].id.write_direct_chunk((0, 0), gzip_stream(32 << 20))  # 32 MiB of zeros in a 72-byte chunk

    path = tampered(tmp_path / "inflate.nir", bomb)
    with h5py.File(path, "r") as file:  # libhdf5 inflates it all, keeps 72 bytes and says nothing
        assert np.all(file[WEIGHT][()] == 0)
    message = refusal(path)
    assert "node 'classifier_7' (Linear) field 'weight': the gzip chunk at (0, 0) inflates past its declared 72 bytes" in message


def test_a_filter_outside_the_standard_pipeline_is_refused_by_id(tmp_path):
    path = tampered(tmp_path / "lzf.nir", lambda file: replace(file, WEIGHT, data=np.ones(SHAPE, dtype="<f4"), compression="lzf"))
    message = refusal(path)
    assert "field 'weight' passes through HDF5 filter 32000 ('lzf')" in message
    assert "spikedyn reads only gzip (deflate), shuffle, fletcher32" in message


def test_a_chunk_larger_than_the_array_limit_is_refused(tmp_path):
    path = tampered(tmp_path / "chunk.nir", lambda file: replace(
        file, WEIGHT, shape=SHAPE, maxshape=(None, 6), dtype="<f4", chunks=(1 << 26, 6)))  # fmt: skip
    assert "field 'weight' declares chunks of 1,610,612,736 bytes (read whole), more than NIRLimits.max_array_bytes" in refusal(path)


def test_a_heap_collection_that_would_stall_libhdf5_is_refused(tmp_path):
    path = exported(tmp_path / "stall.nir")
    (_, _, address, _), = string_elements(path, "node/type")
    patch(path, address + 16, bytes(16))  # its first object becomes free space of size 0: libhdf5's parser loops forever
    assert f"the graph's type points at a malformed HDF5 global heap collection at address {address} (object 0 at offset 0 " \
           "declares 0 bytes" in refusal(path)  # fmt: skip


def test_a_string_longer_than_its_heap_object_is_refused(tmp_path):
    path = exported(tmp_path / "overrun.nir")
    (offset, length, address, index), = string_elements(path, "node/type")
    patch(path, offset, struct.pack("<I", length - 6))  # 2 bytes claimed of an 8-byte object: libhdf5 reads it into 2
    assert f"the graph's type points at heap object {index} of the collection at address {address}, which differs in size" in refusal(path)


def test_many_strings_sharing_one_heap_object_count_once_each(tmp_path):
    path = tampered(tmp_path / "shared.nir", lambda file: file["node/metadata"].create_dataset(
        "blob", data="x" * 100_000, dtype=h5py.string_dtype()))  # fmt: skip
    (_, length, address, index), = string_elements(path, "node/metadata/blob")
    edges = string_elements(path, "node/edges")
    for offset, *_ in edges:
        patch(path, offset, struct.pack("<IQI", length, address, index))
    with h5py.File(path, "r") as file:  # every edge end is now the whole 100 kB blob, read again and again
        assert {len(end) for end in file["node/edges"][()].ravel()} == {100_000}
    assert f"the graph's edges holds {len(edges) * 100_000:,} bytes of text, more than NIRLimits.max_array_bytes = 2,000,000" in refusal(
        path, limits=NIRLimits(max_array_bytes=2_000_000))  # fmt: skip


@pytest.mark.parametrize("node, field, bad, kind", [
    ("classifier_7", "weight", np.nan, "Linear"),
    ("features_0_layer_0", "bias", np.inf, "Conv2d"),
    ("features_1", "v_threshold", -np.inf, "LIF"),
    ("features_2_layer_threshold", "r", np.nan, "IF"),
])  # fmt: skip
@pytest.mark.parametrize("source", ["file", "graph"])
def test_a_nan_or_infinite_parameter_is_refused_by_node_and_field(tmp_path, node, field, bad, kind, source):
    path = exported(tmp_path / "model.nir")
    if source == "file":
        graph = tampered(path, lambda file: set_values(file, f"{NODES}/{node}/{field}", lambda values: values.put(0, bad)))
    else:
        graph = nir.read(path)
        getattr(graph.nodes[node], field).put(0, bad)
    nan, inf = (1, 0) if np.isnan(bad) else (0, 1)
    assert f"node {node!r} ({kind}) field {field!r} holds {nan} NaN and {inf} infinite values" in refusal(graph)


def test_a_string_where_a_weight_belongs_is_refused(tmp_path):
    path = tampered(tmp_path / "text.nir", lambda file: replace(file, WEIGHT, data="hello", dtype=h5py.string_dtype()))
    assert "node 'classifier_7' (Linear) field 'weight' holds text, expected numbers" in refusal(path)
    graph = nir.read(exported(tmp_path / "model.nir"))
    graph.nodes["classifier_7"].weight = "hello"
    assert "node 'classifier_7' (Linear) field 'weight' holds str 'hello', expected numbers" in refusal(graph)


def test_an_unknown_node_type_is_refused_by_name(tmp_path):
    path = tampered(tmp_path / "unknown.nir", lambda file: replace(file, f"{NODES}/classifier_7/type", data=np.bytes_("Teleporter")))
    assert "spikedyn has no layer for these NIR nodes: classifier_7 (Teleporter)" in refusal(path)


def test_a_field_nir_does_not_define_is_refused(tmp_path):
    path = tampered(tmp_path / "extra.nir", lambda file: file.create_dataset(f"{NODES}/classifier_7/payload", data=np.ones(3)))
    assert "node 'classifier_7' (Linear) has a field 'payload' that NIR's Linear lacks" in refusal(path)


NESTED = "spikedyn has no layer for these NIR nodes: deep (NIRGraph) (it imports"


def test_a_deeply_nested_graph_is_refused_without_recursing(tmp_path):
    path = tampered(tmp_path / "nested.nir", lambda file: nest(file, 3000))
    with pytest.raises(RecursionError):
        nir.read(path)
    message = refusal(path)
    assert NESTED in message and "nested graphs and recurrence are not imported" in message


def test_a_graph_that_holds_itself_is_refused_without_recursing(tmp_path):
    def contain_itself(file: h5py.File) -> None:
        file[f"{NODES}/deep"] = file["node"]  # a hard link: the graph group is one of its own nodes, endlessly deep

    assert NESTED in refusal(tampered(tmp_path / "cycle.nir", contain_itself))


def test_a_file_with_very_many_nodes_is_refused_from_the_count(tmp_path):
    path = tampered(tmp_path / "crowd.nir", lambda file: loose_nodes(file, 20_000))
    assert "the graph has 20,016 nodes, more than NIRLimits.max_nodes = 10,000" in refusal(path)


def test_a_graph_with_very_many_nodes_is_refused_from_the_count():
    nodes = {f"n{i}": nir.Scale(np.ones(2)) for i in range(20_000)}
    graph = nir.NIRGraph(nodes=nodes, edges=[], type_check=False)
    assert "the graph has 20,000 nodes, more than NIRLimits.max_nodes = 10,000" in refusal(graph)


@pytest.mark.parametrize("edges, problem", [
    ([("input", "ghost")], "the graph's edges name nodes it lacks: ghost"),
    ([("input", "output"), ("input", "output")], "the graph has the edge ('input', 'output') twice"),
])  # fmt: skip
def test_edges_must_join_distinct_pairs_of_the_graphs_nodes(edges, problem):
    nodes = {"input": nir.Input(np.array([3])), "output": nir.Output(np.array([3]))}
    assert problem in refusal(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))


def _truncated(path: Path) -> Path:
    data = exported(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _text(path: Path) -> Path:
    path.write_text("a spiking network, honestly\n")
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("make, problem", [
    (_truncated, "is no readable NIR (HDF5) file: Unable to synchronously open file (truncated file"),
    (_text, "is no readable NIR (HDF5) file: Unable to synchronously open file (file signature not found)"),
    (_directory, "is a directory, not a NIR file"),
], ids=["truncated", "text", "directory"])  # fmt: skip
def test_a_file_that_is_no_hdf5_file_is_refused_naming_it(tmp_path, make, problem):
    path = make(tmp_path / "model.nir")
    assert refusal(path).startswith(f"{path} {problem}")


def test_the_limits_are_the_callers_to_lower(tmp_path):
    path = exported(tmp_path / "model.nir")
    expected = "node 'classifier_2_layer' (Linear) field 'weight' declares shape (16, 16) of float32 (1,024 bytes)"
    assert f"{expected}: more than NIRLimits.max_array_bytes = 1,000" in refusal(path, limits=NIRLimits(max_array_bytes=1000))
    assert "more than NIRLimits.max_total_bytes = 10,000 bytes of arrays" in refusal(path, limits=NIRLimits(max_total_bytes=10_000))
    assert "the graph has 16 nodes, more than NIRLimits.max_nodes = 5" in refusal(path, limits=NIRLimits(max_nodes=5))
    assert "the graph has 15 edges, more than NIRLimits.max_edges = 3" in refusal(path, limits=NIRLimits(max_edges=3))
    assert "the graph has 16 nodes, more than NIRLimits.max_nodes = 5" in refusal(nir.read(path), limits=NIRLimits(max_nodes=5))


def test_a_larger_graph_imports_under_a_raised_limit(tmp_path):
    weight = np.random.default_rng(0).normal(size=(128, 4096)).astype(np.float32)  # 2 MiB
    graph = nir.NIRGraph.from_list(nir.Input(np.array([4096])), nir.Linear(weight), nir.IF(np.ones(128), np.ones(128)), nir.Output(np.array([128])))
    path = write_nir(graph, tmp_path / "wide.nir")
    assert "NIRLimits.max_array_bytes = 1,048,576" in refusal(path, limits=NIRLimits(max_array_bytes=1 << 20))
    imported = from_nir(path, DT, limits=NIRLimits(max_array_bytes=1 << 22))
    assert np.array_equal(imported.layers["linear"].layer.weight.detach().numpy(), weight)


@pytest.mark.parametrize("options", [dict(max_nodes=0), dict(max_array_bytes=True), dict(max_total_bytes=1.5)])
def test_a_limit_must_be_a_whole_number_from_one(options):
    with pytest.raises(ValueError, match=f"NIRLimits.{next(iter(options))} must be a whole number >= 1"):
        NIRLimits(**options)


def _same(a: object, b: object) -> bool:
    """Whether two NIR field values are equal: arrays by value, dicts (types, metadata) key by key."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return type(a) is type(b) if a is None or b is None else np.array_equal(np.asarray(a), np.asarray(b))


def test_the_reader_gives_the_graph_nir_reads_from_a_genuine_export(tmp_path):
    path = exported(tmp_path / "model.nir")
    ours, theirs = read_nir(path), nir.read(path, type_check=False)
    assert ours.nodes.keys() == theirs.nodes.keys() and len(ours.nodes) == 16
    assert sorted(ours.edges) == sorted(theirs.edges) and ours.metadata == theirs.metadata
    for name, node in theirs.nodes.items():
        assert type(ours.nodes[name]) is type(node)
        mine = vars(ours.nodes[name])
        assert mine.keys() == vars(node).keys(), name
        for key, value in vars(node).items():
            assert _same(mine[key], value), (name, key)
    built, expected = from_nir(path, DT).state_dict(), from_nir(theirs, DT).state_dict()
    assert built.keys() == expected.keys() and all(torch.equal(built[key], expected[key]) for key in expected)


def test_the_schema_covers_exactly_the_node_types_the_importer_builds():
    assert set(NODE_FIELDS) - {"Input", "Output"} == {cls.__name__ for cls in _layer_makers(DT)}
