// Communicator: the processes of one data-parallel run, as the trainer and the session see them: how
// many there are, which one this is, and one collective operation (all_gather). Not an MPI wrapper:
// SingleProcess is the default (one process, nothing to exchange); core/distributed/mpi_communicator.hpp is the
// MPI one, built with GFN_MPI.
//
// Failures travel with the data. exchange() takes this process's Packet, or the exception it caught
// instead; when any process failed, every process throws (the failing one its own exception, the
// others the same kind of exception with the first failing rank's message), so no process is left
// waiting for one that has gone. Every process must call exchange() the same number of times.
//
//   Packet mine;
//   mine.put(values.data(), values.size());          // any trivially copyable values
//   std::vector<Packet::Reader> parts = exchange(communicator, mine, failure);
//   const float* theirs = parts[1].take<float>(n);    // rank 1's values, in the order they were put
//
// Thread contract: thread-compatible; one thread per process calls it (MPI_THREAD_FUNNELED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace gfn {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // 0 .. size() - 1; rank 0 writes the run's outputs
  virtual int size() const = 0;
  // Every process's `mine` concatenated in rank order into `all`; rank r's bytes are
  // all[offsets[r], offsets[r + 1]) (size() + 1 offsets). Collective.
  virtual void all_gather(const std::vector<char>& mine, std::vector<char>& all, std::vector<size_t>& offsets) = 0;

  // True once no process will wait in a collective for this one: exchange() threw (on every process at
  // the same exchange), or the caller marked the run's last collective as behind it. Until then a
  // process that fails alone must end the whole job (MpiCommunicator::abort) instead of leaving.
  bool finished_together() const { return finished_together_; }
  void set_finished_together() { finished_together_ = true; }

 private:
  bool finished_together_ = false;
};

// One process: all_gather copies `mine`.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_gather(const std::vector<char>& mine, std::vector<char>& all, std::vector<size_t>& offsets) override;
};

// The communicator of a library user who sets none: one process.
Communicator& single_process();

// Bytes of one process's part: values appended in order, each put() padded to 8 bytes so that every
// array stays aligned for its type once the parts are concatenated. Its first 8 bytes are reserved for
// exchange() (the status).
class Packet {
 public:
  Packet() { bytes_.resize(kHeader); }
  template <typename T>
  void put(const T* values, size_t n) {
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t at = bytes_.size();
    bytes_.resize(at + (n * sizeof(T) + 7) / 8 * 8);
    if (n > 0) std::memcpy(bytes_.data() + at, values, n * sizeof(T));
  }
  template <typename T>
  void put(T value) { put(&value, 1); }
  void clear() { bytes_.resize(kHeader); }

  // Reads one part back, in the order of the put() calls.
  class Reader {
   public:
    Reader(const char* begin, const char* end) : at_(begin), end_(end) {}
    template <typename T>
    const T* take(size_t n) {
      const size_t length = (n * sizeof(T) + 7) / 8 * 8;
      if (length > size_t(end_ - at_)) throw std::runtime_error("exchange: a process sent a shorter part than expected");
      const T* values = reinterpret_cast<const T*>(at_);
      at_ += length;
      return values;
    }
    template <typename T>
    T take() { return *take<T>(1); }

   private:
    const char* at_;
    const char* end_;
  };

 private:
  friend std::vector<Packet::Reader> exchange(Communicator&, Packet&, std::exception_ptr);
  static constexpr size_t kHeader = 8;
  std::vector<char> bytes_;
  std::vector<char> gathered_;  // every process's bytes after exchange(); the readers point into it
};

// Gathers every process's packet (one reader per rank, rank order, past the status) unless a process
// failed: `failure` is the exception this process caught since the last exchange, or null. Then every
// process throws: the failing ones their own exception, the others "rank r: <message>" of the first
// failing rank as std::invalid_argument, TrainingDiverged or std::runtime_error, like the original.
// The readers stay valid until `mine` is exchanged again or destroyed.
std::vector<Packet::Reader> exchange(Communicator& communicator, Packet& mine, std::exception_ptr failure);

// Named fingerprints of what must be the same on every process, e.g. {"configuration", hash of it}.
using Fingerprints = std::vector<std::pair<std::string, uint64_t>>;

// At the start of a run: throws std::invalid_argument on every process, naming the first rank and
// fingerprint that differ from rank 0's, unless all agree (or the exception of a process that failed,
// as exchange()).
void require_same_everywhere(Communicator& communicator, const Fingerprints& fingerprints, std::exception_ptr failure);

}  // namespace gfn
