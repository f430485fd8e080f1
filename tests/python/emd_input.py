"""A minimal EMD 1.0 file holding one array node, written with h5py (inputs for CLI tests)."""
import h5py
import numpy as np


def write_emd_array(path, data, root="root", name="profiles"):
    """Writes `data` as the array node ROOT/NAME of an EMD 1.0 file; returns the node path."""
    with h5py.File(path, "w") as f:
        f.attrs["emd_group_type"] = "file"
        f.attrs["version_major"] = 1
        f.attrs["version_minor"] = 0
        r = f.create_group(root)
        r.attrs["emd_group_type"] = "root"
        r.attrs["python_class"] = "Root"
        node = r.create_group(name)
        node.attrs["emd_group_type"] = "array"
        node.attrs["python_class"] = "Array"
        node.create_dataset("data", data=np.ascontiguousarray(data))
    return f"{root}/{name}"
