// Checkpoint serialisation: sections appended to a byte buffer in little-endian order, checksummed,
// written atomically; read back only after the file and every declared length are checked.
#include "core/network/checkpoint.hpp"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

#include "util/files.hpp"

namespace gfn {

uint64_t fnv1a(const char* data, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ uint8_t(data[i])) * 0x100000001b3ULL;
  return hash;
}

namespace {

constexpr char kMagic[8] = {'G', 'F', 'N', 'C', 'K', 'P', 'T', '1'};
constexpr uint64_t kMaxSections = 4096;

// The unsigned integer with the same bytes as a value of 1, 4 or 8 bytes.
template <typename T>
auto bits_of(T value) {
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint8_t>>;
  static_assert(sizeof(T) == sizeof(Bits));
  Bits bits;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}

class Writer {
 public:
  template <typename T>
  void scalar(T value) {
    const auto bits = bits_of(value);
    for (size_t byte = 0; byte < sizeof(T); ++byte) buffer_.push_back(char((uint64_t(bits) >> (8 * byte)) & 0xff));
  }
  template <typename T>
  void array(const T* values, uint64_t count) {
    scalar(count);
    for (uint64_t i = 0; i < count; ++i) scalar(values[i]);
  }
  template <typename Map>
  void named_arrays(const Map& sections) {
    scalar(uint64_t(sections.size()));
    for (const auto& [name, values] : sections) {
      array(name.data(), name.size());
      array(values.data(), values.size());
    }
  }
  void raw(const char* bytes, size_t size) { buffer_.append(bytes, size); }
  std::string& buffer() { return buffer_; }

 private:
  std::string buffer_;
};

class Reader {
 public:
  Reader(const std::string& bytes, size_t end, const std::string& path) : bytes_(bytes), end_(end), path_(path) {}
  template <typename T>
  T scalar() {
    need(1, sizeof(T));
    decltype(bits_of(T())) bits = 0;
    for (size_t byte = 0; byte < sizeof(T); ++byte)
      bits |= decltype(bits)(uint64_t(uint8_t(bytes_[position_ + byte])) << (8 * byte));
    position_ += sizeof(T);
    T value;
    std::memcpy(&value, &bits, sizeof(T));
    return value;
  }
  // A length-prefixed array; the length is checked against the bytes left before anything is allocated.
  template <typename Vector>
  void array(Vector& values) {
    using T = typename Vector::value_type;
    const uint64_t count = scalar<uint64_t>();
    need(count, sizeof(T));
    values.resize(count);
    for (uint64_t i = 0; i < count; ++i) values[i] = scalar<T>();
  }
  template <typename Map>
  void named_arrays(Map& sections) {
    const uint64_t count = scalar<uint64_t>();
    if (count > kMaxSections) fail("implausible number of sections");
    for (uint64_t i = 0; i < count; ++i) {
      std::string name;
      array(name);
      if (sections.count(name)) fail("section '" + name + "' appears twice");
      array(sections[name]);
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("checkpoint " + path_ + ": " + what);
  }
  size_t position() const { return position_; }

 private:
  void need(uint64_t count, uint64_t size) const {
    if (count > (end_ - position_) / size) fail("truncated file (a section is longer than the bytes left)");
  }
  const std::string& bytes_;
  size_t end_;  // the checksum's offset
  const std::string& path_;
  size_t position_ = 0;
};

// The whole file, after checking that it is a regular file below the size bound (so a device such as
// /dev/zero or a FIFO is refused at once instead of read forever).
std::string read_checkpoint_file(const std::string& path) {
  auto fail = [&](const std::string& what) { return std::runtime_error("checkpoint " + path + ": " + what); };
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw fail("cannot open file");
  if (!S_ISREG(info.st_mode)) throw fail("not a regular file");
  if (uint64_t(info.st_size) > Checkpoint::kMaxFileBytes) throw fail("larger than 64 GiB: not a checkpoint");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail("cannot open file");
  std::string bytes(size_t(info.st_size), '\0');
  in.read(bytes.data(), std::streamsize(bytes.size()));
  if (in.gcount() != std::streamsize(bytes.size())) throw fail("the file changed while it was read");
  return bytes;
}

}  // namespace

void Checkpoint::save(const std::string& path) const {
  Writer writer;
  writer.raw(kMagic, sizeof(kMagic));
  writer.scalar(kVersion);
  writer.array(config.data(), config.size());
  writer.scalar(iteration);
  writer.named_arrays(floats);
  writer.named_arrays(integers);
  writer.named_arrays(doubles);
  std::string& bytes = writer.buffer();
  writer.scalar(fnv1a(bytes.data(), bytes.size()));
  try {
    write_file_atomically(path, bytes);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("cannot write checkpoint: " + std::string(error.what()));
  }
}

Checkpoint Checkpoint::load(const std::string& path) {
  const std::string bytes = read_checkpoint_file(path);
  auto fail = [&](const std::string& what) { throw std::runtime_error("checkpoint " + path + ": " + what); };
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    fail("not a gfn checkpoint (bad magic number)");
  if (bytes.size() < sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t)) fail("truncated file");
  const size_t body = bytes.size() - sizeof(uint64_t);
  Reader reader(bytes, body, path);
  for (size_t i = 0; i < sizeof(kMagic); ++i) reader.scalar<char>();
  const uint32_t version = reader.scalar<uint32_t>();
  if (version != kVersion)
    fail("format version " + std::to_string(version) + ", this gfn reads version " + std::to_string(kVersion));
  uint64_t stored_checksum = 0;
  for (size_t byte = 0; byte < sizeof(uint64_t); ++byte)
    stored_checksum |= uint64_t(uint8_t(bytes[body + byte])) << (8 * byte);
  if (fnv1a(bytes.data(), body) != stored_checksum) fail("checksum mismatch (truncated or corrupted file)");

  Checkpoint checkpoint;
  reader.array(checkpoint.config);
  checkpoint.iteration = reader.scalar<int64_t>();
  if (checkpoint.iteration < 0) fail("negative iteration " + std::to_string(checkpoint.iteration));
  reader.named_arrays(checkpoint.floats);
  reader.named_arrays(checkpoint.integers);
  reader.named_arrays(checkpoint.doubles);
  if (reader.position() != body) fail("unexpected data before the checksum");
  checkpoint.path_ = path;
  return checkpoint;
}

namespace {

template <typename Map>
const typename Map::mapped_type& section(const Map& sections, const std::string& name, const std::string& path) {
  const auto found = sections.find(name);
  if (found == sections.end()) throw std::runtime_error("checkpoint " + path + ": missing section '" + name + "'");
  return found->second;
}

}  // namespace

const FlatVector<float>& Checkpoint::float_array(const std::string& name) const { return section(floats, name, path_); }
const std::vector<int64_t>& Checkpoint::integer_array(const std::string& name) const {
  return section(integers, name, path_);
}
const std::vector<double>& Checkpoint::double_array(const std::string& name) const {
  return section(doubles, name, path_);
}

}  // namespace gfn
