// Adam/AdamW and the flat-buffer helpers (clipping, Polyak averaging, copy).
#include "core/network/adam.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gfn {

template <typename Scalar>
Adam<Scalar>::Adam(const ParameterStore<Scalar>& store, std::vector<AdamGroup> groups, AdamSettings settings)
    : groups_(std::move(groups)),
      settings_(settings),
      first_moment_(store.flat_size(), Scalar(0)),
      second_moment_(store.flat_size(), Scalar(0)) {
  for (int id = 0; id < store.size(); ++id)
    if (store.entry(id).group < 0 || store.entry(id).group >= int(groups_.size()))
      throw std::invalid_argument("Adam: parameter '" + store.entry(id).name + "' has no optimiser group");
}

template <typename Scalar>
void Adam<Scalar>::update(ParameterStore<Scalar>& store, const FlatVector<Scalar>& gradient, int entry_id,
                          int64_t begin, int64_t end) {
  const double beta1 = settings_.beta1, beta2 = settings_.beta2;
  const double bias_correction1 = 1 - std::pow(beta1, double(steps_));
  const double bias_correction2 = 1 - std::pow(beta2, double(steps_));
  const AdamGroup& group = groups_[store.entry(entry_id).group];
  const Scalar step_size = Scalar(group.learning_rate / bias_correction1);
  const Scalar inverse_sqrt_correction2 = Scalar(1 / std::sqrt(bias_correction2));
  const Scalar decay = Scalar(1 - group.learning_rate * group.weight_decay);
  const Scalar b1 = Scalar(beta1), b2 = Scalar(beta2), epsilon = Scalar(settings_.epsilon);
  // In chunks that stay in the L1 cache: the three vectorised passes then read memory once.
  constexpr int64_t kChunk = 1024;
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  for (int64_t first = begin; first < end; first += kChunk) {
    const int64_t size = std::min(kChunk, end - first);
    Eigen::Map<Array> values(store.values().data() + first, size);
    Eigen::Map<const Array> g(gradient.data() + first, size);
    Eigen::Map<Array> m(first_moment_.data() + first, size);
    Eigen::Map<Array> v(second_moment_.data() + first, size);
    if (decay != Scalar(1)) values *= decay;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.square();
    values -= step_size * m / (v.sqrt() * inverse_sqrt_correction2 + epsilon);
  }
}

template <typename Scalar>
void Adam<Scalar>::step(ParameterStore<Scalar>& store, const FlatVector<Scalar>& gradient) {
  if (int64_t(gradient.size()) != store.flat_size() || int64_t(first_moment_.size()) != store.flat_size())
    throw std::invalid_argument("Adam::step: gradient and optimiser state must match the store");
  ++steps_;
  for (int id = 0; id < store.size(); ++id) {
    const auto& entry = store.entry(id);
    update(store, gradient, id, entry.offset, entry.offset + int64_t(entry.rows) * entry.cols);
  }
}

template <typename Scalar>
void Adam<Scalar>::step(ParameterStore<Scalar>& store, const FlatVector<Scalar>& gradient,
                        const std::vector<FlatRange>& support) {
  if (int64_t(gradient.size()) != store.flat_size() || int64_t(first_moment_.size()) != store.flat_size())
    throw std::invalid_argument("Adam::step: gradient and optimiser state must match the store");
  ++steps_;
  int id = 0;  // entries are in offset order, and so are the ranges
  for (const FlatRange& range : support) {
    for (int64_t begin = range.begin; begin < range.end;) {
      while (id < store.size() && store.entry(id).offset + int64_t(store.entry(id).rows) * store.entry(id).cols <= begin)
        ++id;
      if (id == store.size() || store.entry(id).offset > begin)
        throw std::invalid_argument("Adam::step: the support covers elements outside every parameter");
      const int64_t end = std::min(range.end, store.entry(id).offset + int64_t(store.entry(id).rows) * store.entry(id).cols);
      update(store, gradient, id, begin, end);
      begin = end;
    }
  }
}

template <typename Scalar>
void Adam<Scalar>::decay_learning_rates(double factor) {
  for (AdamGroup& group : groups_) group.learning_rate *= factor;
}

template <typename Scalar>
double clip_gradient_norm(FlatVector<Scalar>& gradient, double max_norm) {
  double squares = 0;
  for (Scalar g : gradient) squares += double(g) * double(g);
  const double norm = std::sqrt(squares);
  if (norm > max_norm && norm > 0) {
    const Scalar factor = Scalar(max_norm / norm);
    for (Scalar& g : gradient) g *= factor;
  }
  return norm;
}

template <typename Scalar>
double clip_gradient_norm(FlatVector<Scalar>& gradient, double max_norm, const std::vector<FlatRange>& support) {
  double squares = 0;
  for (const FlatRange& range : support)
    for (int64_t i = range.begin; i < range.end; ++i) squares += double(gradient[i]) * double(gradient[i]);
  const double norm = std::sqrt(squares);
  if (norm > max_norm && norm > 0) {
    const Scalar factor = Scalar(max_norm / norm);
    for (const FlatRange& range : support)
      for (int64_t i = range.begin; i < range.end; ++i) gradient[i] *= factor;
  }
  return norm;
}

void merge_ranges(std::vector<FlatRange>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const FlatRange& a, const FlatRange& b) { return a.begin < b.begin; });
  size_t kept = 0;
  for (const FlatRange& range : ranges) {
    if (kept > 0 && range.begin <= ranges[kept - 1].end)
      ranges[kept - 1].end = std::max(ranges[kept - 1].end, range.end);
    else
      ranges[kept++] = range;
  }
  ranges.resize(kept);
}

template <typename Scalar>
void polyak_update(ParameterStore<Scalar>& target, const ParameterStore<Scalar>& source, double tau) {
  if (target.flat_size() != source.flat_size()) throw std::invalid_argument("polyak_update: layouts differ");
  Scalar* t = target.values().data();
  const Scalar* s = source.values().data();
  const Scalar keep = Scalar(1 - tau), take = Scalar(tau);
  for (int64_t i = 0; i < target.flat_size(); ++i) t[i] = keep * t[i] + take * s[i];
}

template <typename Scalar>
void copy_parameters(ParameterStore<Scalar>& target, const ParameterStore<Scalar>& source) {
  if (target.flat_size() != source.flat_size()) throw std::invalid_argument("copy_parameters: layouts differ");
  target.values() = source.values();
}

template class Adam<float>;
template class Adam<double>;
template double clip_gradient_norm(FlatVector<float>&, double);
template double clip_gradient_norm(FlatVector<double>&, double);
template double clip_gradient_norm(FlatVector<float>&, double, const std::vector<FlatRange>&);
template double clip_gradient_norm(FlatVector<double>&, double, const std::vector<FlatRange>&);
template void polyak_update(ParameterStore<float>&, const ParameterStore<float>&, double);
template void polyak_update(ParameterStore<double>&, const ParameterStore<double>&, double);
template void copy_parameters(ParameterStore<float>&, const ParameterStore<float>&);
template void copy_parameters(ParameterStore<double>&, const ParameterStore<double>&);

}  // namespace gfn
