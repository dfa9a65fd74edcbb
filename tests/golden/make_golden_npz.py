"""Writes the .npz fixtures of tests/golden/npz/: archives written by NumPy itself, which xgrad::load
must read, and broken ones, which it must reject with an Error naming the entry.

    /usr/bin/python3 tests/golden/make_golden_npz.py

Every value is a simple formula (repeated in tests/nn/test_serialize.cpp), so the test needs no
second file to compare with. Zip members carry a fixed date, so re-running gives identical files.
"""
import io
import os
import zipfile

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npz")
DATE = (2020, 1, 1, 0, 0, 0)


def arrays():
    """The arrays of numpy_savez.npz, named as a module's parameters and buffers."""
    return {
        "weight": (np.arange(6, dtype=np.float32).reshape(3, 2) * 0.25 - 1.0),
        "bias": np.array([0.5, -0.0, np.inf], dtype=np.float32),
        "running_mean": np.linspace(-1.0, 1.0, 5, dtype=np.float64) / 3.0,
        "num_batches_tracked": np.array(7, dtype=np.int64),
        "mask": np.array([[True, False], [False, True]]),
        "pixels": np.arange(250, 256, dtype=np.uint8),
    }


def npy_bytes(array):
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=False)
    return out.getvalue()


def write_zip(name, members, compression=zipfile.ZIP_STORED):
    """members: (member name, bytes) pairs, written as given."""
    with zipfile.ZipFile(os.path.join(HERE, name), "w", compression=compression) as archive:
        for member, data in members:
            info = zipfile.ZipInfo(member, date_time=DATE)
            info.compress_type = compression
            archive.writestr(info, data)


def numpy_written(name, writer):
    """An archive exactly as numpy.savez / savez_compressed writes it, with a fixed member date."""
    buffer = io.BytesIO()
    writer(buffer, **arrays())
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as source:
        members = [(info.filename, source.read(info.filename)) for info in source.infolist()]
        compression = source.infolist()[0].compress_type
    write_zip(name, members, compression)


def broken(name, member_bytes, member_name="weight.npy"):
    """A copy of numpy_savez.npz with the member weight.npy replaced (bytes and name)."""
    members = [(key + ".npy", npy_bytes(value)) for key, value in arrays().items()]
    members = [(member_name, member_bytes) if m == "weight.npy" else (m, data) for m, data in members]
    write_zip(name, members)


def with_header(header, data=b""):
    """.npy format 1.0 bytes with the given header dict text (padded as NumPy pads) and data."""
    text = header.encode("latin1")
    pad = (64 - (10 + len(text) + 1) % 64) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def claiming_size(name, claimed):
    """A deflated copy of numpy_savez.npz whose weight.npy is recorded (in its local header and in the
    central directory) as `claimed` bytes long: more than its few compressed bytes can inflate to."""
    members = [(key + ".npy", npy_bytes(value)) for key, value in arrays().items()]
    write_zip(name, members, zipfile.ZIP_DEFLATED)
    path = os.path.join(HERE, name)
    data = bytearray(open(path, "rb").read())
    member = b"weight.npy"
    local = data.index(b"PK\x03\x04" + data[4:8])  # the first member is weight.npy
    assert data[local + 30:local + 30 + len(member)] == member
    data[local + 22:local + 26] = claimed.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    assert data[central + 46:central + 46 + len(member)] == member
    data[central + 24:central + 28] = claimed.to_bytes(4, "little")
    open(path, "wb").write(bytes(data))


def main():
    os.makedirs(HERE, exist_ok=True)
    numpy_written("numpy_savez.npz", np.savez)
    numpy_written("numpy_savez_compressed.npz", np.savez_compressed)
    weight = arrays()["weight"]
    good = npy_bytes(weight)
    broken("bad_magic.npz", b"\x93NUMPX" + good[6:])
    broken("bad_version.npz", good[:6] + b"\x04\x00" + good[8:])
    broken("bad_header.npz", with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2) ", weight.tobytes()))
    broken("unknown_key.npz",
           with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), 'extra': 1, }", weight.tobytes()))
    broken("big_endian.npz", npy_bytes(weight.astype(">f4")))
    broken("float16.npz", npy_bytes(weight.astype(np.float16)))
    broken("fortran_order.npz", npy_bytes(np.asfortranarray(weight)))
    broken("short_data.npz", good[:-4])
    broken("long_data.npz", good + b"\0\0\0\0")
    broken("huge_shape.npz",
           with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1048576), }", weight.tobytes()))
    broken("short_header.npz", good[:9])
    broken("overflowing_shape.npz",
           with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 8), }"))
    broken("not_npy.npz", good, member_name="weight.txt")
    claiming_size("inflates_past_its_size.npz", 4_000_000_000)
    write_zip("bzip2_member.npz", [(key + ".npy", npy_bytes(value)) for key, value in arrays().items()],
              zipfile.ZIP_BZIP2)


if __name__ == "__main__":
    main()
