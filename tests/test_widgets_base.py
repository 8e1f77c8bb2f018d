"""Tests for cnnlib.book.widgets.base: pack/unpack, the ES module assembly, BookWidget, and the
arithmetic of js/common.js (run with Node, when installed) against cnnlib."""

import base64
import json
import shutil
import subprocess

import numpy as np
import pytest
import traitlets

from cnnlib import AvgPool2d, maxpool2d
from cnnlib.book.widgets import base


def test_pack_round_trips_float32():
    a = np.linspace(-1, 1, 12).reshape(3, 4)
    packed = base.pack(a)
    assert packed["shape"] == [3, 4] and packed["dtype"] == "float32"
    np.testing.assert_array_equal(base.unpack(packed), a.astype(np.float32))


def test_pack_uint8_is_one_byte_per_value():
    packed = base.pack(np.arange(6, dtype=np.uint8), "uint8")
    assert len(base64.b64decode(packed["b64"])) == 6


def test_pack_with_scale_quantises_and_unpack_scales_back():
    pixels = np.array([0, 1, 128, 255], dtype=np.uint8)
    packed = base.pack(pixels / 255.0, "uint8", scale=1 / 255)
    assert packed["scale"] == pytest.approx(1 / 255)
    np.testing.assert_allclose(base.unpack(packed), pixels / 255.0, rtol=1e-15)


def test_pack_is_json_serialisable():
    json.dumps(base.pack(np.ones((2, 2))))


def test_pack_rejects_an_unknown_dtype():
    with pytest.raises(ValueError, match=r"dtype must be one of .*, got 'int64'"):
        base.pack(np.ones(2), "int64")


def test_pack_rejects_uint8_out_of_range():
    with pytest.raises(ValueError, match="uint8 holds 0..255.*pass scale="):
        base.pack(np.array([0.5, 300.0]), "uint8")


def test_pack_rejects_scale_without_uint8():
    with pytest.raises(ValueError, match="scale quantises to uint8"):
        base.pack(np.ones(2), "float32", scale=0.1)


def test_unpack_rejects_a_dict_not_made_by_pack():
    with pytest.raises(ValueError, match="expected a dict made by pack"):
        base.unpack({"shape": [2]})


def test_pack_images_keeps_uint8_pixels_exact():
    pixels = np.array([[0, 7, 255]], dtype=np.uint8)
    packed = base.pack_images(pixels / 255.0, pixels)
    assert packed["dtype"] == "uint8"
    assert list(base64.b64decode(packed["b64"])) == [0, 7, 255]


def test_esm_is_common_js_then_the_widget_file():
    text = base.esm("kernel_explorer.js")
    common = (base.JS_DIR / "common.js").read_text()
    assert text.startswith(common)
    assert text.rstrip().endswith("export default { render };")
    assert "import " not in text.split("// ---- kernel_explorer.js")[1].split("\n", 1)[1][:200]


def test_esm_rejects_a_missing_file():
    with pytest.raises(FileNotFoundError, match="no front-end 'nope.js'"):
        base.esm("nope.js")


def test_common_js_has_no_import_or_export():
    # it is pasted in front of every widget: an export there would clash, an import would fail
    text = (base.JS_DIR / "common.js").read_text()
    assert not any(line.startswith(("import ", "export ")) for line in text.splitlines())


class _Doubler(base.BookWidget):
    _js = "kernel_explorer.js"
    _inputs = ("x",)
    x = traitlets.Int(1).tag(sync=True)

    def compute(self):
        return {"double": 2 * self.x}


def test_book_widget_builds_its_esm_at_class_creation():
    assert _Doubler._esm == base.esm("kernel_explorer.js")


def test_book_widget_data_follows_its_inputs():
    w = _Doubler()
    assert w.data == {"double": 2}
    w.x = 5
    assert w.data == {"double": 10}


def test_check_int_names_the_range():
    with pytest.raises(traitlets.TraitError, match=r"stride must be an integer in 1\.\.3, got 4"):
        base.check_int("stride", 4, range(1, 4))


# ---- js/common.js against cnnlib (needs Node)

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_common_js(body: str):
    """Run common.js + body as an ES module in Node and return what body prints (JSON)."""
    source = (base.JS_DIR / "common.js").read_text() + "\n" + body
    out = subprocess.run([NODE, "--input-type=module", "-e", source], capture_output=True,
                         text=True, check=True, timeout=60)
    return json.loads(out.stdout)


@needs_node
@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (3, 2)])
def test_common_js_conv2d_equals_cnnlib(stride, padding):
    rng = np.random.default_rng(stride)
    pixels = rng.integers(0, 256, size=(28, 28)).astype(np.uint8)
    kernel = rng.standard_normal((3, 3))
    got = run_common_js(f"""
        const im = unpack({json.dumps(base.pack_images(pixels / 255.0, pixels))});
        const out = conv2d(im.data, 28, 28, {json.dumps(kernel.ravel().tolist())}, 3,
                           {stride}, {padding});
        console.log(JSON.stringify(toRows(out.data, out.h, out.w)));""")
    expected = base.feature_map(pixels / 255.0, kernel, stride, padding)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@needs_node
@pytest.mark.parametrize("mode", ["max", "average"])
def test_common_js_pool2d_equals_cnnlib(mode):
    fmap = np.random.default_rng(0).random((26, 26))
    got = run_common_js(f"""
        const m = Float64Array.from({json.dumps(fmap.ravel().tolist())});
        const out = pool2d(m, 26, 26, 3, 2, "{mode}");
        console.log(JSON.stringify(toRows(out.data, out.h, out.w)));""")
    x = fmap[None, None]
    expected = (maxpool2d(x, 3, 2) if mode == "max" else AvgPool2d(3, 2).forward(x))[0, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@needs_node
def test_common_js_colour_maps_run_between_their_end_colours_white_at_zero():
    got = run_common_js("""console.log(JSON.stringify([COLOUR_MAPS.viridis.length,
        COLOUR_MAPS.viridis[0], COLOUR_MAPS.viridis[256], colourOf(0, -1, 1, "diverging")]));""")
    assert got == [257, [0x44, 0x01, 0x54], [0xfd, 0xe7, 0x25], [0xf7, 0xf7, 0xf7]]


def test_pack_images_sends_float_digits_of_255ths_as_uint8():
    pixels = np.array([[0, 7, 255]], dtype=np.uint8)
    digits = (pixels / np.float32(255)).astype(np.float32)  # as cnnlib.to_float makes them
    packed = base.pack_images(digits)
    assert packed["dtype"] == "uint8"
    np.testing.assert_allclose(base.unpack(packed), digits, rtol=1e-6)


def test_pack_images_keeps_other_floats_as_float32():
    assert base.pack_images(np.array([[0.1234567]]))["dtype"] == "float32"
