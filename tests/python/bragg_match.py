"""Matching py4DSTEM's Bragg peaks with ours (both as py4DSTEM BraggVectors), for the peer tests."""
import numpy as np


def match_peaks(ref, ours, match_px):
    """Each of py4DSTEM's peaks (``ref``) against our nearest peak at the same position: a dict of
    ``total`` (py4DSTEM's peaks), ``ours`` (our peaks), ``matched`` (within ``match_px``), ``worst``
    (largest matched distance, px) and ``worst_rel_intensity`` (largest |ours/theirs − 1| of the matched)."""
    out = dict(total=0, ours=0, matched=0, worst=0.0, worst_rel_intensity=0.0)
    for i in range(ref.Rshape[0]):
        for j in range(ref.Rshape[1]):
            a, b = ref.raw[i, j].data, ours.raw[i, j].data
            out["total"] += len(a)
            out["ours"] += len(b)
            if len(b) == 0:
                continue
            for p in a:
                dist = np.hypot(b["qx"] - p["qx"], b["qy"] - p["qy"])
                k = dist.argmin()
                if dist[k] < match_px:
                    out["matched"] += 1
                    out["worst"] = max(out["worst"], dist[k])
                    out["worst_rel_intensity"] = max(out["worst_rel_intensity"],
                                                     abs(b["intensity"][k] / p["intensity"] - 1))
    return out
