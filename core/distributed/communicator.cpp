// Communicator helpers: the single-process communicator, exchange() with failures, fingerprint checks.
#include "core/distributed/communicator.hpp"

#include <new>

#include "core/network/training_diverged.hpp"

namespace gfn {

void SingleProcess::all_gather(const std::vector<char>& mine, std::vector<char>& all, std::vector<size_t>& offsets) {
  all = mine;
  offsets = {0, mine.size()};
}

Communicator& single_process() {
  static SingleProcess communicator;
  return communicator;
}

namespace {

// The status word at the head of every part: what kind of exception the process caught, if any.
enum Status : int64_t { kOk = 0, kUsage = 1, kDiverged = 2, kRuntime = 3 };

std::pair<Status, std::string> describe(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::invalid_argument& error) {
    return {kUsage, error.what()};
  } catch (const TrainingDiverged& error) {
    return {kDiverged, error.what()};
  } catch (const std::bad_alloc&) {
    return {kRuntime, "out of memory"};
  } catch (const std::exception& error) {
    return {kRuntime, error.what()};
  } catch (...) {
    return {kRuntime, "unknown exception"};
  }
}

[[noreturn]] void throw_as(Status status, const std::string& message) {
  if (status == kUsage) throw std::invalid_argument(message);
  if (status == kDiverged) throw TrainingDiverged(message);
  throw std::runtime_error(message);
}

}  // namespace

std::vector<Packet::Reader> exchange(Communicator& communicator, Packet& mine, std::exception_ptr failure) {
  int64_t status = kOk;
  if (failure) {
    const auto [kind, message] = describe(failure);
    status = kind;
    mine.clear();
    const int64_t length = int64_t(message.size());
    mine.put(length);
    mine.put(message.data(), message.size());
  }
  std::memcpy(mine.bytes_.data(), &status, sizeof(status));
  std::vector<size_t> offsets;
  communicator.all_gather(mine.bytes_, mine.gathered_, offsets);
  std::vector<Packet::Reader> parts;
  for (int r = 0; r < communicator.size(); ++r) {
    Packet::Reader part(mine.gathered_.data() + offsets[r], mine.gathered_.data() + offsets[r + 1]);
    const auto their_status = Status(part.take<int64_t>());
    if (their_status != kOk) {
      communicator.set_finished_together();
      if (failure) std::rethrow_exception(failure);
      const int64_t length = part.take<int64_t>();
      throw_as(their_status, "rank " + std::to_string(r) + ": " + std::string(part.take<char>(size_t(length)), size_t(length)));
    }
    parts.push_back(part);
  }
  return parts;
}

void require_same_everywhere(Communicator& communicator, const Fingerprints& fingerprints, std::exception_ptr failure) {
  Packet mine;
  for (const auto& fingerprint : fingerprints) mine.put(fingerprint.second);
  std::vector<Packet::Reader> parts = exchange(communicator, mine, failure);
  std::vector<uint64_t> lead;
  for (size_t i = 0; i < fingerprints.size(); ++i) lead.push_back(parts[0].take<uint64_t>());
  for (int r = 1; r < communicator.size(); ++r)
    for (size_t i = 0; i < fingerprints.size(); ++i)
      if (parts[size_t(r)].take<uint64_t>() != lead[i]) {
        communicator.set_finished_together();
        throw std::invalid_argument("rank " + std::to_string(r) + " runs with another " + fingerprints[i].first +
                                    " than rank 0");
      }
}

}  // namespace gfn
