// The extension module scandiff._core. The public API is the pure-Python package around it
// (python/scandiff); this module only exposes the library.
#include "bindings.hpp"

NB_MODULE(_core, m) {
  m.doc() = "scandiff engine bindings (use the `scandiff` package, not this module directly)";
  scandiff::python::bind_core(m);
  scandiff::python::bind_io(m);
  scandiff::python::bind_engine(m);
  scandiff::python::bind_sim(m);
  scandiff::python::bind_stem(m);
  scandiff::python::bind_polar(m);
  scandiff::python::bind_bragg(m);
  scandiff::python::bind_xray(m);
  scandiff::python::bind_analysis(m);
  scandiff::python::bind_sxdm(m);
}
