// Private RAII wrappers around the HDF5 C API and the process-wide lock that every HDF5 call
// must hold: the HDF5 build in use is not assumed thread-safe.
//
// Rule: create an h5::Lock at the top of every public entry point, and let all Handles of that
// call die before the Lock does (declare the Lock first). Objects that keep handles across
// calls (writers, sources) take the lock in their destructor and reset() their handles under it.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>
#include <utility>

namespace scandiff::io::h5 {

// The one lock around all HDF5 calls in this process.
std::mutex& hdf5_mutex();

// Holds hdf5_mutex() for its lifetime (except in the probe child of hdf5_probe.hpp, which
// inherits the parent's lock) and turns off HDF5's automatic error printing
// (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr)): the library must never print.
class Lock {
 public:
  Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  std::unique_lock<std::mutex> guard_;
};

// An owned HDF5 identifier (file, group, dataset, dataspace, datatype, attribute or property
// list), closed with the matching H5?close on destruction. Never wrap predefined types such as
// H5T_NATIVE_INT. Destroy only while the Lock is held.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Closes the identifier now; returns false if HDF5 reported an error while closing
  // (for a file: data could not be flushed).
  bool reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// The most specific message on HDF5's error stack of this thread ("" when empty), e.g.
// "truncated file: eof = 8552, ...", for appending to exception messages. Clears the stack.
std::string error_text();

}  // namespace scandiff::io::h5
