// Checkpoint serialisation: sections appended to a byte buffer, checksummed, written atomically.
#include "core/checkpoint.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace gfn {

namespace {

constexpr char kMagic[8] = {'G', 'F', 'N', 'C', 'K', 'P', 'T', '1'};
constexpr uint64_t kMaxSection = uint64_t(1) << 36;  // 64 GiB: anything larger is corruption

uint64_t fnv1a(const char* data, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ uint8_t(data[i])) * 0x100000001b3ULL;
  return hash;
}

class Writer {
 public:
  template <typename T>
  void scalar(T value) {
    const char* bytes = reinterpret_cast<const char*>(&value);
    buffer_.insert(buffer_.end(), bytes, bytes + sizeof(T));
  }
  template <typename T>
  void array(const T* values, uint64_t count) {
    scalar(count);
    const char* bytes = reinterpret_cast<const char*>(values);
    buffer_.insert(buffer_.end(), bytes, bytes + count * sizeof(T));
  }
  void raw(const char* bytes, size_t size) { buffer_.insert(buffer_.end(), bytes, bytes + size); }
  std::string& buffer() { return buffer_; }

 private:
  std::string buffer_;
};

class Reader {
 public:
  Reader(const std::string& bytes, const std::string& path) : bytes_(bytes), path_(path) {}
  template <typename T>
  T scalar() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }
  template <typename Vector>
  void array(Vector& values) {
    const uint64_t count = scalar<uint64_t>();
    using T = typename Vector::value_type;
    if (count > kMaxSection / sizeof(T)) fail("a section length is implausible");
    need(count * sizeof(T));
    values.resize(count);
    std::memcpy(values.data(), bytes_.data() + position_, count * sizeof(T));
    position_ += count * sizeof(T);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("checkpoint " + path_ + ": " + what);
  }
  size_t position() const { return position_; }

 private:
  void need(uint64_t size) const {
    if (size > bytes_.size() - position_) fail("truncated file");
  }
  const std::string& bytes_;
  const std::string& path_;
  size_t position_ = 0;
};

}  // namespace

void Checkpoint::save(const std::string& path) const {
  Writer writer;
  writer.raw(kMagic, sizeof(kMagic));
  writer.scalar(kVersion);
  writer.array(config.data(), config.size());
  writer.scalar(iteration);
  writer.scalar(uint64_t(floats.size()));
  for (const auto& [name, values] : floats) {
    writer.array(name.data(), name.size());
    writer.array(values.data(), values.size());
  }
  writer.scalar(uint64_t(integers.size()));
  for (const auto& [name, values] : integers) {
    writer.array(name.data(), name.size());
    writer.array(values.data(), values.size());
  }
  std::string& bytes = writer.buffer();
  writer.scalar(fnv1a(bytes.data(), bytes.size()));

  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write checkpoint " + path + ": cannot create " + temporary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      throw std::runtime_error("cannot write checkpoint " + path + " (disk full?)");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot write checkpoint " + path + ": rename failed");
  }
}

Checkpoint Checkpoint::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("checkpoint " + path + ": cannot open file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Reader reader(bytes, path);
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    reader.fail("not a gfn checkpoint (bad magic number)");
  for (size_t i = 0; i < sizeof(kMagic); ++i) reader.scalar<char>();
  const uint32_t version = reader.scalar<uint32_t>();
  if (version != kVersion)
    reader.fail("format version " + std::to_string(version) + ", this gfn reads version " + std::to_string(kVersion));
  if (bytes.size() < sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t)) reader.fail("truncated file");
  const size_t body = bytes.size() - sizeof(uint64_t);
  uint64_t stored_checksum;
  std::memcpy(&stored_checksum, bytes.data() + body, sizeof(uint64_t));
  if (fnv1a(bytes.data(), body) != stored_checksum) reader.fail("checksum mismatch (truncated or corrupted file)");

  Checkpoint checkpoint;
  reader.array(checkpoint.config);
  checkpoint.iteration = reader.scalar<int64_t>();
  auto read_named = [&](auto& sections) {
    const uint64_t count = reader.scalar<uint64_t>();
    if (count > 4096) reader.fail("implausible number of sections");
    for (uint64_t i = 0; i < count; ++i) {
      std::string name;
      reader.array(name);
      reader.array(sections[name]);
    }
  };
  read_named(checkpoint.floats);
  read_named(checkpoint.integers);
  if (reader.position() != body) reader.fail("unexpected data before the checksum");
  checkpoint.path_ = path;
  return checkpoint;
}

const FlatVector<float>& Checkpoint::float_array(const std::string& name) const {
  const auto found = floats.find(name);
  if (found == floats.end()) throw std::runtime_error("checkpoint " + path_ + ": missing section '" + name + "'");
  return found->second;
}

const std::vector<int64_t>& Checkpoint::integer_array(const std::string& name) const {
  const auto found = integers.find(name);
  if (found == integers.end()) throw std::runtime_error("checkpoint " + path_ + ": missing section '" + name + "'");
  return found->second;
}

}  // namespace gfn
