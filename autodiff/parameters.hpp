// ParameterStore: every trainable matrix of a model in one flat, staggered buffer.
//
// A parameter is a named Rows x Cols block of `values()`; its gradient lives at the same offset of a
// separate flat gradient buffer (make_gradient()), so optimisers, gradient reduction, norms, Polyak
// averaging and checkpoints are plain loops over flat arrays. Parameters persist across steps; the
// tape refers to them without copying.
//
// Thread contract: reading values from many threads is safe while nobody writes them; each thread
// accumulates into its own gradient buffer.
#pragma once

#include <string>
#include <vector>

#include "autodiff/matrix.hpp"

namespace gfn {

// Elements [begin, end) of a flat buffer with a store's layout (e.g. the rows of a table one step read).
struct FlatRange {
  int64_t begin = 0, end = 0;
};

template <typename Scalar>
class ParameterStore {
 public:
  struct Entry {
    std::string name;
    int rows = 0;
    int cols = 0;
    int64_t offset = 0;  // into values() and into a gradient buffer
    int group = 0;       // optimiser group (e.g. 1 for log Z with its own learning rate)
  };

  // Adds a zero-initialised Rows x Cols parameter and returns its id.
  int add(const std::string& name, int rows, int cols, int group = 0) {
    Entry entry{name, rows, cols, staggered_offset<Scalar>(end_), group};
    end_ = entry.offset + int64_t(rows) * cols;
    values_.resize(end_, Scalar(0));
    entries_.push_back(entry);
    return int(entries_.size()) - 1;
  }

  int size() const { return int(entries_.size()); }
  const Entry& entry(int id) const { return entries_[id]; }
  int64_t flat_size() const { return end_; }

  MatrixMap<Scalar> value(int id) {
    const Entry& e = entries_[id];
    return MatrixMap<Scalar>(values_.data() + e.offset, e.rows, e.cols);
  }
  ConstMatrixMap<Scalar> value(int id) const {
    const Entry& e = entries_[id];
    return ConstMatrixMap<Scalar>(values_.data() + e.offset, e.rows, e.cols);
  }

  FlatVector<Scalar>& values() { return values_; }
  const FlatVector<Scalar>& values() const { return values_; }

  // A zeroed gradient buffer with this store's layout.
  FlatVector<Scalar> make_gradient() const { return FlatVector<Scalar>(end_, Scalar(0)); }

  // The gradient block of parameter `id` inside a gradient buffer.
  MatrixMap<Scalar> gradient(FlatVector<Scalar>& buffer, int id) const {
    const Entry& e = entries_[id];
    return MatrixMap<Scalar>(buffer.data() + e.offset, e.rows, e.cols);
  }

 private:
  std::vector<Entry> entries_;
  FlatVector<Scalar> values_;
  int64_t end_ = 0;
};

}  // namespace gfn
