// X-ray geometry: .poni parsing (v1, v2, v2.1) and per-pixel 2θ, χ, q, r, solid angle and
// polarization against values computed with pyFAI.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "scandiff/core/error.hpp"
#include "scandiff/xray/geometry.hpp"
#include "scandiff/xray/poni.hpp"

namespace fs = std::filesystem;
using namespace scandiff;
using namespace scandiff::xray;

namespace {

const fs::path dioptas = fs::path(SCANDIFF_SHARED_DATA) / "xray" / "dioptas";

// The shipped CeO2_Pilatus1M.poni (v1), copied here so the geometry tests never skip.
constexpr const char* ceo2_poni =
    "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis \n"
    "# Calibration done at Fri Feb 27 13:52:42 2015\n"
    "PixelSize1: 0.000172\nPixelSize2: 0.000172\nDistance: 0.208651380603\nPoni1: 0.0872948482846\n"
    "Poni2: 0.0799601126306\nRot1: -0.0184422457059\nRot2: 0.00413760084465\nRot3: -2.77645988275e-08\n"
    "SplineFile: None\nWavelength: 4.066e-11\n";

// LaB6_40keV_MarCCD_new_with_orientation.poni (v2.1, orientation 2).
constexpr const char* lab6_poni =
    "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\n"
    "poni_version: 2.1\nDetector: Detector\n"
    "Detector_config: {\"pixel1\": 7.9e-05, \"pixel2\": 7.9e-05, \"max_shape\": null, \"orientation\": 2}\n"
    "Distance: 0.196711580484\nPoni1: 0.0813975852141\nPoni2: 0.0820662115429\nRot1: 0.00615439716514\n"
    "Rot2: -0.00156720465515\nRot3: 1.68707221612e-06\nWavelength: 3.1e-11\n";

struct PixelRef {
  int i, j;
  double tth_rad, chi_rad, q_nm, r_m, solid_angle, polarization;
};

// Computed with pyFAI 2026.9: ai = pyFAI.load(poni); ai.detector.shape = shape; then
// ai.center_array(shape, unit=U, scale=False) for U = 2th_rad, chi_rad, q_nm^-1, r_m,
// ai.solidAngleArray(shape, absolute=False) and ai.polarization(shape, 0.99) at [i, j]. pyFAI's
// solid angle uses float32 pixel positions and its polarization array is float32: 1e-7 there.
const PixelRef ceo2_ref[] = {
    {0, 0, 0.5312416988194903, -2.3308359011260107, 81.13078646650723, 0.12150126060575316, 0.6584579594239173,
     0.8781164},
    {500, 400, 0.0721524978970936, -3.003656565730818, 11.147299133122512, 0.015063082071026024, 0.995739442766009,
     0.9949263},
    {1042, 980, 0.5338654266410656, 0.8213064732333242, 81.52194185996044, 0.12450804230126887, 0.6201239565696296,
     0.8797257},
};
const PixelRef lab6_ref[] = {  // shape (2048, 2048), orientation 2
    {10, 20, 0.5187311738480058, 2.352174685250415, 103.96337166276885, 0.11250755718481675, 0.6513405654382726,
     0.87807995},
    {1500, 300, 0.3344873642626816, -2.5565120237301433, 67.47943401147893, 0.06851056704048464, 0.8374717669260443,
     0.9253091},
};

void check_pixels(const DetectorGeometry& g, const PixelRef* refs, std::size_t n) {
  const auto tth = g.center_map(Quantity::two_theta);
  const auto q = g.center_map(Quantity::q);
  const auto r = g.center_map(Quantity::r);
  const auto chi = g.chi_map();
  const auto sa = g.solid_angle_map();
  const auto pol = g.polarization_map(0.99);
  for (std::size_t k = 0; k < n; ++k) {
    const PixelRef& p = refs[k];
    const auto at = static_cast<std::size_t>(p.i * g.cols() + p.j);
    SCOPED_TRACE(testing::Message() << "pixel (" << p.i << ", " << p.j << ")");
    EXPECT_NEAR(tth[at], p.tth_rad, 1e-12);
    EXPECT_NEAR(chi[at], p.chi_rad, 1e-12);
    EXPECT_NEAR(q[at], p.q_nm, 1e-10);
    EXPECT_NEAR(r[at], p.r_m, 1e-12);
    EXPECT_NEAR(sa[at], p.solid_angle, 1e-7);
    EXPECT_NEAR(pol[at], p.polarization, 1e-7);  // pyFAI's polarization array is float32
  }
}

}  // namespace

TEST(XrayPoni, ParsesVersion1) {
  const PoniGeometry g = parse_poni(ceo2_poni);
  EXPECT_DOUBLE_EQ(g.distance_m, 0.208651380603);
  EXPECT_DOUBLE_EQ(g.poni1_m, 0.0872948482846);
  EXPECT_DOUBLE_EQ(g.rot3_rad, -2.77645988275e-08);
  EXPECT_DOUBLE_EQ(g.pixel1_m, 0.000172);
  EXPECT_DOUBLE_EQ(g.wavelength_m, 4.066e-11);
  EXPECT_EQ(g.orientation, 3);
  EXPECT_EQ(g.poni_version, 1);
}

TEST(XrayPoni, ParsesVersion21WithOrientation) {
  const PoniGeometry g = parse_poni(lab6_poni);
  EXPECT_EQ(g.orientation, 2);
  EXPECT_DOUBLE_EQ(g.pixel2_m, 7.9e-05);
  EXPECT_DOUBLE_EQ(g.poni_version, 2.1);
}

TEST(XrayPoni, LastRepeatedKeyWinsAndKeysAreCaseInsensitive) {
  const PoniGeometry g = parse_poni(std::string(ceo2_poni) + "DISTANCE: 0.5\n");
  EXPECT_DOUBLE_EQ(g.distance_m, 0.5);
}

TEST(XrayPoni, WriteReadRoundTripIsExact) {
  const PoniGeometry a = parse_poni(lab6_poni);
  const PoniGeometry b = parse_poni(format_poni(a));
  EXPECT_EQ(a.distance_m, b.distance_m);
  EXPECT_EQ(a.poni1_m, b.poni1_m);
  EXPECT_EQ(a.poni2_m, b.poni2_m);
  EXPECT_EQ(a.rot1_rad, b.rot1_rad);
  EXPECT_EQ(a.rot2_rad, b.rot2_rad);
  EXPECT_EQ(a.rot3_rad, b.rot3_rad);
  EXPECT_EQ(a.wavelength_m, b.wavelength_m);
  EXPECT_EQ(a.orientation, b.orientation);
}

TEST(XrayPoni, MalformedFilesAreClearErrors) {
  EXPECT_THROW(parse_poni("PixelSize1: 1e-4\nPixelSize2: 1e-4\nPoni1: 0\nPoni2: 0\nRot1: 0\nRot2: 0\nRot3: 0\n"),
               FormatError);  // no Distance
  EXPECT_THROW(parse_poni("PixelSize1: 1e-4\nPixelSize2: 1e-4\nDistance: 0\nPoni1: 0\nPoni2: 0\nRot1: 0\nRot2: 0\n"
                          "Rot3: 0\n"),
               InvalidArgument);  // distance 0
  EXPECT_THROW(parse_poni("PixelSize1: 1e-4\nPixelSize2: 1e-4\nDistance: nan\nPoni1: 0\nPoni2: 0\nRot1: 0\n"
                          "Rot2: 0\nRot3: 0\n"),
               FormatError);
  EXPECT_THROW(parse_poni("poni_version: 2\nDetector_config: [1, 2]\nDistance: 0.1\nPoni1: 0\nPoni2: 0\nRot1: 0\n"
                          "Rot2: 0\nRot3: 0\n"),
               FormatError);
  EXPECT_THROW(parse_poni("poni_version: 2.1\nDetector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, "
                          "\"orientation\": 7}\nDistance: 0.1\nPoni1: 0\nPoni2: 0\nRot1: 0\nRot2: 0\nRot3: 0\n"),
               InvalidArgument);
  try {
    parse_poni("PixelSize1: 1e-4\nPixelSize2: 1e-4\nDistance: 0.1\nPoni1: 0\nPoni2: 0\nRot1: 0\nRot2: 0\n",
               "my.poni");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("my.poni"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("Rot3"), std::string::npos);
  }
}

TEST(XrayPoni, ReadsTheShippedFiles) {
  if (!fs::exists(dioptas)) GTEST_SKIP() << "real data not found at " << dioptas;
  const PoniGeometry v1 = read_poni(dioptas / "CeO2_Pilatus1M.poni");
  EXPECT_DOUBLE_EQ(v1.poni2_m, 0.0799601126306);
  const PoniGeometry v21 = read_poni(dioptas / "LaB6_40keV_MarCCD_new_with_orientation.poni");
  EXPECT_EQ(v21.orientation, 2);
  EXPECT_THROW(read_poni(dioptas / "does_not_exist.poni"), IoError);
}

TEST(XrayGeometry, MatchesPyfaiPixelValues) {
  check_pixels(DetectorGeometry(parse_poni(ceo2_poni), 1043, 981), ceo2_ref, std::size(ceo2_ref));
}

TEST(XrayGeometry, OrientationTwoMatchesPyfai) {
  check_pixels(DetectorGeometry(parse_poni(lab6_poni), 2048, 2048), lab6_ref, std::size(lab6_ref));
}

TEST(XrayGeometry, OrientationTwoIsTheUpDownFlip) {
  PoniGeometry p = parse_poni(ceo2_poni);
  const DetectorGeometry native(p, 1043, 981);
  p.orientation = 2;
  const DetectorGeometry flipped(p, 1043, 981);
  const auto a = native.center_map(Quantity::two_theta);
  const auto b = flipped.center_map(Quantity::two_theta);
  EXPECT_EQ(a[static_cast<std::size_t>(5 * 981 + 7)], b[static_cast<std::size_t>((1042 - 5) * 981 + 7)]);
}

TEST(XrayGeometry, UnitsAndDSpacing) {
  EXPECT_EQ(parse_radial_unit("q_A^-1"), RadialUnit::q_A);
  EXPECT_DOUBLE_EQ(unit_scale(RadialUnit::q_A), 0.1);
  EXPECT_THROW(parse_radial_unit("q"), InvalidArgument);
  const DetectorGeometry g(parse_poni(ceo2_poni), 1043, 981);
  const auto d = g.d_spacing_map_A();
  const auto q = g.center_map(Quantity::q);
  // d = 2π / q: q in nm⁻¹ -> d in nm; ×10 for Å.
  EXPECT_NEAR(d[1000], 10 * 2 * M_PI / q[1000], 1e-9);
}

TEST(XrayGeometry, ElectronGeometryFromReciprocalPixelSize) {
  // 200 kV electrons: λ = 0.02508 Å; 0.01 Å⁻¹ per pixel; centre at pixel (64, 64).
  const PoniGeometry p = electron_geometry_reciprocal(0.01, 0.02508e-10, 64.5, 64.5);
  const DetectorGeometry g(p, 128, 128);
  // 10 pixels from the centre along a row: k = 1/d = 2 sin θ / λ ≈ 0.1 Å⁻¹ (small angle).
  const double tth = g.two_theta(64.5, 74.5);
  const double k = 2 * std::sin(tth / 2) / 0.02508;
  EXPECT_NEAR(k, 0.1, 1e-5);
}

TEST(XrayGeometry, Fit2dConversionMatchesPyfai) {
  // pyFAI 2026.9: pyFAI.load("CeO2_Pilatus1M.poni").getFit2D()
  const Fit2dGeometry f = to_fit2d(parse_poni(ceo2_poni));
  EXPECT_NEAR(f.direct_distance_mm, 208.68865485844012, 1e-9);
  EXPECT_NEAR(f.center_x_px, 487.2590056623346, 1e-9);
  EXPECT_NEAR(f.center_y_px, 512.5483498574525, 1e-9);
  EXPECT_NEAR(f.tilt_deg, 1.0829269537346373, 1e-9);
  EXPECT_NEAR(f.tilt_plan_rotation_deg, 12.645940035040315, 1e-9);
}
