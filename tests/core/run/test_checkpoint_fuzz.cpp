// Seeded random fuzzing of the checkpoint reader and of everything a resumed run reads from a checkpoint:
// bit flips, truncations, splices of two checkpoints and byte overwrites, both as they are (the checksum
// refuses them) and with the checksum recomputed (so the section parser, the configuration text and the
// restore of every trainer part see the damage), plus crafted files: huge declared sizes and counts,
// negative numbers, a wrong version, truncated sections, sections out of order or twice.
//
// Every case must end in a clean refusal: Checkpoint::load, from_text and Session::restore throw
// std::runtime_error (building the Session from a damaged configuration may also throw
// std::invalid_argument), or the damaged checkpoint loads and the run trains a step and evaluates
// without crashing. Under ASan/UBSan (the debug-asan preset) a memory error fails the test.
// Bounded: seconds in release. GFN_FUZZ_SEED and GFN_FUZZ_ROUNDS run it longer or elsewhere.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/run/session.hpp"

namespace gfn {
namespace {

uint64_t environment_number(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::strtoull(text, nullptr, 10) : fallback;
}

std::string scratch_file(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("gfn-fuzz-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The format's checksum (core/network/checkpoint.hpp): FNV-1a 64 of everything before it, little-endian.
uint64_t fnv1a(const std::string& bytes, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ uint8_t(bytes[i])) * 0x100000001b3ULL;
  return hash;
}
void put_u64(std::string& bytes, size_t at, uint64_t value) {
  for (int b = 0; b < 8; ++b) bytes[at + b] = char((value >> (8 * b)) & 0xff);
}
// Replaces the last 8 bytes by the checksum of the rest (a file of at least 8 bytes).
std::string rechecksummed(std::string bytes) {
  if (bytes.size() >= 8) put_u64(bytes, bytes.size() - 8, fnv1a(bytes, bytes.size() - 8));
  return bytes;
}

// Little-endian builder for crafted files, in the layout of core/network/checkpoint.hpp.
struct Bytes {
  std::string data = "GFNCKPT1";
  Bytes& u32(uint32_t value) {
    for (int b = 0; b < 4; ++b) data += char((value >> (8 * b)) & 0xff);
    return *this;
  }
  Bytes& u64(uint64_t value) {
    for (int b = 0; b < 8; ++b) data += char((value >> (8 * b)) & 0xff);
    return *this;
  }
  Bytes& text(const std::string& value) {
    u64(value.size());
    data += value;
    return *this;
  }
  template <typename T>
  Bytes& values(const T& array) {
    u64(array.size());
    for (const auto value : array) {
      uint64_t bits = 0;
      std::memcpy(&bits, &value, sizeof(value));
      for (size_t b = 0; b < sizeof(value); ++b) data += char((bits >> (8 * b)) & 0xff);
    }
    return *this;
  }
  template <typename Map>
  Bytes& sections(const Map& map) {
    u64(map.size());
    for (const auto& [name, array] : map) text(name).values(array);
    return *this;
  }
  std::string finished() const { return rechecksummed(data + std::string(8, '\0')); }
};

// A run small enough to rebuild thousands of times, with the parts a checkpoint can carry.
RunSettings small_run(const std::string& loss, const std::string& pb, double replay_ratio) {
  RunSettings settings;
  settings.env = "hypergrid";
  settings.ndim = 2;
  settings.height = 4;
  settings.hidden = 8;
  settings.batch = 4;
  settings.iters = 6;
  settings.eval_every = 2;
  settings.threads = 1;
  settings.loss = loss;
  settings.pb = pb;
  settings.replay_ratio = replay_ratio;
  settings.replay_capacity = 16;
  settings.replay_batch = 4;
  return settings;
}

std::string trained_checkpoint(const RunSettings& settings, const std::string& name) {
  Session session(settings);
  session.train();
  const std::string path = scratch_file(name);
  session.checkpoint().save(path);
  return read_bytes(path);
}

enum class Outcome { Refused, Loaded, Resumed };

// Loads the bytes as a checkpoint and, when they load, resumes a run from them: one training step
// and an evaluation. Any exception but the documented ones fails the test.
Outcome try_resume(const std::string& bytes, const std::string& path) {
  write_bytes(path, bytes);
  Checkpoint checkpoint;
  try {
    checkpoint = Checkpoint::load(path);
  } catch (const std::runtime_error&) {
    return Outcome::Refused;
  }
  RunSettings settings;
  try {
    settings = from_text(checkpoint.config);
  } catch (const std::runtime_error&) {
    return Outcome::Loaded;
  }
  settings.threads = 1;
  settings.max_memory = 0.25;  // a damaged configuration must not make the harness allocate gigabytes
  std::unique_ptr<Session> session;
  try {
    session = std::make_unique<Session>(settings);
  } catch (const std::invalid_argument&) {
    return Outcome::Loaded;
  } catch (const std::runtime_error&) {
    return Outcome::Loaded;
  }
  try {
    session->restore(checkpoint);
  } catch (const std::runtime_error&) {
    return Outcome::Loaded;
  }
  try {
    if (session->trainer().iteration() >= 0 && session->trainer().iteration() < settings.iters)
      session->trainer().step();
    session->evaluate();
  } catch (const std::runtime_error&) {  // e.g. TrainingDiverged on damaged parameters
  }
  return Outcome::Resumed;
}

std::string mutated(const std::string& bytes, const std::string& other, std::mt19937_64& random, int kind) {
  std::string result = bytes;
  auto position = [&](size_t size) { return size_t(random() % std::max<size_t>(size, 1)); };
  switch (kind) {
    case 0:  // flip 1 to 8 random bits
      for (int flips = 1 + int(random() % 8); flips > 0 && !result.empty(); --flips)
        result[position(result.size())] ^= char(1 << (random() % 8));
      break;
    case 1:  // truncate
      result.resize(position(result.size()));
      break;
    case 2: {  // splice: a prefix of one checkpoint and a suffix of the other
      const size_t cut = position(result.size()), from = position(other.size());
      result = result.substr(0, cut) + other.substr(from);
      break;
    }
    case 3: {  // overwrite a run of bytes with 0x00, 0xff or random bytes (e.g. a length field)
      const size_t at = position(result.size()), length = 1 + random() % 9;
      const int fill = int(random() % 3);
      for (size_t i = at; i < std::min(result.size(), at + length); ++i)
        result[i] = fill == 0 ? '\0' : fill == 1 ? char(0xff) : char(random());
      break;
    }
    default: {  // duplicate or delete a run of bytes
      const size_t at = position(result.size()), length = 1 + random() % 64;
      if (random() % 2) result.insert(at, result.substr(at, length));
      else result.erase(at, length);
    }
  }
  return result;
}

TEST_CASE("fuzz: damaged checkpoints are refused cleanly, or load and resume without a crash") {
  const uint64_t seed = environment_number("GFN_FUZZ_SEED", 20261130);
  const uint64_t rounds = environment_number("GFN_FUZZ_ROUNDS", 600);
  // Two checkpoints with different parts: replay and a pessimistic P_B (recent batches, a second
  // network); the soft-DQN learner (transition replay, target network).
  const std::string a = trained_checkpoint(small_run("tb", "pessimistic", 0.5), "a.bin");
  const std::string b = trained_checkpoint(small_run("soft-dqn", "uniform", 0), "b.bin");
  const std::string path = scratch_file("mutated.bin");
  REQUIRE(try_resume(a, path) == Outcome::Resumed);
  REQUIRE(try_resume(b, path) == Outcome::Resumed);

  std::mt19937_64 random(seed);
  int outcomes[2][3] = {}, unchanged = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    const bool first = random() % 2;
    const std::string damaged = mutated(first ? a : b, first ? b : a, random, int(random() % 5));
    if (damaged == a || damaged == b) {  // e.g. a splice that kept all of one file, zeros written over zeros
      ++unchanged;
      continue;
    }
    for (int fixed = 0; fixed < 2; ++fixed) {  // as damaged, then with a valid checksum
      CAPTURE(seed);
      CAPTURE(round);
      CAPTURE(fixed);
      const Outcome outcome = try_resume(fixed ? rechecksummed(damaged) : damaged, path);
      ++outcomes[fixed][int(outcome)];
    }
  }
  // With the checksum as damaged, nothing gets past the reader.
  CHECK(outcomes[0][int(Outcome::Refused)] == int(rounds) - unchanged);
  MESSAGE("seed " << seed << ", " << rounds - unchanged << " damaged files; with recomputed checksums: "
                  << outcomes[1][0] << " refused by the reader, " << outcomes[1][1]
                  << " by the configuration or restore, " << outcomes[1][2] << " resumed");
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("fuzz: crafted checkpoints with valid checksums are refused with a one-line reason") {
  const std::string good_bytes = trained_checkpoint(small_run("tb", "pessimistic", 0.5), "good.bin");
  const std::string good_path = scratch_file("good.bin");
  const Checkpoint good = Checkpoint::load(good_path);
  // The builder writes exactly what save() writes.
  const auto rebuild = [&](uint32_t version, const std::string& config, uint64_t iteration) {
    return Bytes().u32(version).text(config).u64(iteration).sections(good.floats).sections(good.integers).sections(
        good.doubles);
  };
  REQUIRE(rebuild(Checkpoint::kVersion, good.config, uint64_t(good.iteration)).finished() == good_bytes);

  const uint64_t huge = uint64_t(1) << 62, minus_one = ~uint64_t(0);
  const auto header = [&] { return Bytes().u32(Checkpoint::kVersion).text(good.config).u64(uint64_t(good.iteration)); };
  Bytes swapped = header();  // the integer sections where the float sections belong, and back
  swapped.sections(good.integers).sections(good.floats).sections(good.doubles);
  Bytes twice = header();
  twice.sections(good.floats).sections(good.integers).sections(good.doubles);
  twice.data.insert(twice.data.size(), twice.data.substr(twice.data.size() - 8));  // dangling bytes
  Bytes duplicate = header();
  duplicate.u64(2).text("parameters").values(good.float_array("parameters"));
  duplicate.text("parameters").values(good.float_array("parameters"));
  duplicate.sections(good.integers).sections(good.doubles);
  const std::string body = rebuild(Checkpoint::kVersion, good.config, uint64_t(good.iteration)).data;

  const std::pair<std::string, std::string> cases[] = {
      {Bytes().u32(Checkpoint::kVersion).u64(huge).finished(), "truncated"},  // a config of 2^62 bytes
      {header().u64(huge).finished(), "implausible number of sections"},
      {header().u64(minus_one).finished(), "implausible number of sections"},  // a count of -1
      {header().u64(1).text("parameters").u64(huge).finished(), "truncated"},  // an array of 2^62 floats
      {header().u64(1).u64(minus_one).finished(), "truncated"},              // a name of -1 bytes
      {rebuild(Checkpoint::kVersion + 1, good.config, uint64_t(good.iteration)).finished(), "format version"},
      {rebuild(0, good.config, uint64_t(good.iteration)).finished(), "format version"},
      {rebuild(Checkpoint::kVersion, good.config, minus_one).finished(), "negative iteration"},
      {Bytes().u32(Checkpoint::kVersion).text(good.config).finished(), "truncated"},  // sections cut off
      {Bytes{body.substr(0, body.size() / 2)}.finished(), "truncated"},               // cut mid-section
      {swapped.finished(), ""},
      {twice.finished(), "unexpected data before the checksum"},
      {duplicate.finished(), "appears twice"},
      {rebuild(Checkpoint::kVersion, "env=hypergrid\nhidden=-3\n", uint64_t(good.iteration)).finished(), "--hidden"},
      {rebuild(Checkpoint::kVersion, "no equals sign", uint64_t(good.iteration)).finished(), "malformed"},
  };
  const std::string path = scratch_file("crafted.bin");
  for (const auto& [bytes, reason] : cases) {
    CAPTURE(reason);
    write_bytes(path, bytes);
    std::string message;
    try {
      const Checkpoint checkpoint = Checkpoint::load(path);
      Session session(from_text(checkpoint.config));
      session.restore(checkpoint);
    } catch (const std::runtime_error& error) {
      message = error.what();
    }
    CHECK(!message.empty());
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find(reason) != std::string::npos);
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

}  // namespace
}  // namespace gfn
