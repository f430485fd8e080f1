"""scandiff: streaming analysis of scanning-diffraction data (4D-STEM) from Python.

The C++ engine does the work; this package opens datasets (files or numpy arrays, without
copying), runs analyses in one pass with progress and Ctrl-C, and returns numpy results with
their units and provenance. Axis order everywhere: (ry, rx, qy, qx) — scan row, scan column,
detector row, detector column. See docs/python.md.
"""
from __future__ import annotations

import atexit as _atexit
import logging as _logging

from . import _core
from ._core import (BinQ, BudgetError, Calibration, Cancelled, CropQ, Detector, FormatError, InvalidArgument,
                    IoError, PadQ, RepairPixels, ResampleQ, ScandiffError)
from ._core import export_fftw_wisdom, fft_planning, import_fftw_wisdom, set_fft_planning
from .dataset import Dataset, from_numpy, info, make_calibration, open
from .engine import Analysis, BlockReduce, FrameMap, map_frames, reduce_blocks, run
from .files import (WriteEMD, WriteHspy, WriteRaw, convert, demo, ground_truth, read_result, save_results,
                    simulate)
from .results import Result, Results
from .bragg import (BraggDisks, BraggVectors, Lattice, detection_options, find_bragg_disks, find_peaks, probe_kernel,
                    read_bragg_vectors, strain, synthetic_probe, vacuum_probe)
from .decompose import edx_class_means, kmeans, nmf, nmf_error_scan, pca, read_mda, read_ripple
from .polar import (Polar, calibrate_ellipse, calibrate_pixel_size, detector_mask, polar, polar_transform,
                    radial_background, read_calibrant)
from .xray import (AzimuthalIntegrator, AzimuthalProfiles, IntegrationResult, PoniGeometry, calibrate_xray,
                   electron_geometry, integrate_scan, load_poni, read_image, write_poni)
from .sxdm import (CentroidMaps, RoiMaps, centroid_maps, hot_pixel_stage, medfilt, roi_maps, rocking_curve,
                   selective_median)
from .sxdm import align as align_frameset
from .stem import (CenterOfMass, Origin, OriginCalibration, VirtualDiffraction, VirtualImage, VirtualImages, annulus,
                   calibrate_origin, calibrate_probe, center_of_mass, circle, detector, dpc, find_bad_pixels,
                   median_diffraction, point, rectangle, virtual_diffraction, virtual_image, virtual_images)

__version__ = _core.__version__

# The library's messages go to the "scandiff" logger (warnings show by default).
_core._set_log_sink(_logging.getLogger("scandiff"))
_atexit.register(_core._set_log_sink, None)

__all__ = [
    "BinQ", "CropQ", "PadQ", "RepairPixels", "ResampleQ",
    "Analysis", "BlockReduce", "BudgetError", "Calibration", "Cancelled", "CenterOfMass", "Dataset",
    "Detector", "FormatError", "FrameMap", "InvalidArgument", "IoError", "Origin", "OriginCalibration",
    "Result", "Results", "ScandiffError", "VirtualDiffraction", "VirtualImage", "VirtualImages", "WriteEMD",
    "WriteHspy", "WriteRaw", "annulus", "calibrate_origin", "calibrate_probe", "center_of_mass", "circle", "convert",
    "demo", "detector", "dpc", "find_bad_pixels", "from_numpy", "ground_truth", "info",
    "make_calibration", "map_frames", "read_result", "median_diffraction", "open", "point", "rectangle", "reduce_blocks",
    "run", "save_results", "simulate", "virtual_diffraction", "virtual_image", "virtual_images",
    # X-ray azimuthal integration
    "AzimuthalIntegrator", "AzimuthalProfiles", "IntegrationResult", "PoniGeometry", "calibrate_xray",
    "electron_geometry", "integrate_scan", "load_poni", "read_image", "write_poni",
    # polar transform, FEM, ring calibrations
    "Polar", "calibrate_ellipse", "calibrate_pixel_size", "detector_mask", "polar", "polar_transform",
    "radial_background", "read_calibrant",
    # Bragg disks and strain
    "BraggDisks", "BraggVectors", "Lattice", "detection_options", "find_bragg_disks", "find_peaks", "probe_kernel",
    "read_bragg_vectors", "strain", "synthetic_probe", "vacuum_probe",
    # factorisations and spectrum/scan readers
    "edx_class_means", "kmeans", "nmf", "nmf_error_scan", "pca", "read_mda", "read_ripple",
    # SXDM maps, hot-pixel filters, framesets
    "CentroidMaps", "RoiMaps", "align_frameset", "centroid_maps", "hot_pixel_stage", "medfilt", "roi_maps",
    "rocking_curve", "selective_median",
    # FFTW planning (as the CLI's --fftw-wisdom)
    "export_fftw_wisdom", "fft_planning", "import_fftw_wisdom", "set_fft_planning",
]
