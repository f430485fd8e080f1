#include "hdf5_handle.hpp"

#include "hdf5_probe.hpp"

namespace scandiff::io::h5 {

std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

Lock::Lock()
    : guard_(in_probe_child() ? std::unique_lock<std::mutex>(hdf5_mutex(), std::defer_lock)
                              : std::unique_lock<std::mutex>(hdf5_mutex())) { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

bool Handle::reset() {
  if (id_ < 0) return true;
  herr_t status = -1;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: status = H5Fclose(id_); break;
    case H5I_GROUP: status = H5Gclose(id_); break;
    case H5I_DATASET: status = H5Dclose(id_); break;
    case H5I_DATASPACE: status = H5Sclose(id_); break;
    case H5I_DATATYPE: status = H5Tclose(id_); break;
    case H5I_ATTR: status = H5Aclose(id_); break;
    case H5I_GENPROP_LST: status = H5Pclose(id_); break;
    default: status = H5Idec_ref(id_) < 0 ? -1 : 0; break;
  }
  id_ = H5I_INVALID_HID;
  return status >= 0;
}

namespace {
// Keeps the first (innermost, walking upwards) entry of the error stack.
herr_t keep_first(unsigned n, const H5E_error2_t* err, void* client) {
  auto* text = static_cast<std::string*>(client);
  if (n == 0 && err != nullptr && err->desc != nullptr) *text = err->desc;
  return 0;
}
}  // namespace

std::string error_text() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first, &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

}  // namespace scandiff::io::h5
