#include <xgrad/nn/npz_impl.hpp>

#include <zip.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <set>

#include <xgrad/core/error.hpp>
#include <xgrad/core/load_limit.hpp>
#include <xgrad/core/tensor_impl.hpp>

// The .npy data are little-endian and copied to and from memory as they are.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "xgrad's .npz reader and writer assume a little-endian host");

namespace xgrad::npz {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLength = 6;
// The magic and two version bytes; a 2-byte (format 1.0) or 4-byte (2.0, 3.0) header length follows.
constexpr std::size_t kVersionEnd = 8;
// NumPy writes headers of a few hundred bytes at most; a longer one is not worth allocating.
constexpr std::size_t kMaxHeaderLength = 1 << 16;

struct NpyType {
  Dtype dtype;
  const char* descr;
  std::size_t item_size;
};
constexpr NpyType kTypes[] = {{kFloat32, "<f4", 4}, {kFloat64, "<f8", 8}, {kInt64, "<i8", 8},
                              {kBool, "|b1", 1},    {kUInt8, "|u1", 1}};

const NpyType& type_of(Dtype dtype) {
  for (const NpyType& type : kTypes)
    if (type.dtype == dtype) return type;
  throw Error(concat("npz: no .npy type for dtype ", dtype_name(dtype)));
}

std::string shape_tuple(const Shape& shape) {
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) tuple += (i ? ", " : "") + std::to_string(shape[i]);
  return tuple + (shape.size() == 1 ? ",)" : ")");
}

// ---- header parsing ------------------------------------------------------------------------------

// A strict reader of the one dict literal NumPy writes: three keys in any order, string, boolean
// and tuple-of-integer values, an optional trailing comma, then spaces and a newline.
class HeaderParser {
 public:
  explicit HeaderParser(const std::string& text) : text_(text) {}

  NpyHeader parse() {
    expect('{');
    std::set<std::string> seen;
    NpyHeader header;
    bool fortran_order = false;
    skip_spaces();
    while (peek() != '}') {
      const std::string key = quoted();
      check(seen.insert(key).second, "key '", key, "' appears twice in the header");
      expect(':');
      if (key == "descr") header.dtype = dtype_of_descr(quoted());
      else if (key == "fortran_order") fortran_order = boolean();
      else if (key == "shape") header.shape = tuple();
      else throw Error(concat("unknown key '", key, "' in the header"));
      skip_spaces();
      if (peek() == ',') {
        ++position_;
        skip_spaces();
      } else if (peek() != '}') {
        throw Error(concat("expected ',' or '}' at byte ", position_, " of the header"));
      }
    }
    ++position_;
    for (const char* key : {"descr", "fortran_order", "shape"})
      check(seen.count(key) == 1, "the header has no '", key, "'");
    check(!fortran_order, "the array is in Fortran order (fortran_order True); save a C-ordered array, "
          "e.g. with np.ascontiguousarray");
    while (position_ < text_.size() && text_[position_] == ' ') ++position_;
    check(position_ + 1 == text_.size() && text_[position_] == '\n',
          "the header does not end with spaces and a newline after its dict");
    return header;
  }

 private:
  char peek() const {
    check(position_ < text_.size(), "the header ends inside its dict");
    return text_[position_];
  }
  void skip_spaces() {
    while (position_ < text_.size() && text_[position_] == ' ') ++position_;
  }
  void expect(char c) {
    skip_spaces();
    check(peek() == c, "expected '", c, "' at byte ", position_, " of the header, got '", peek(), "'");
    ++position_;
  }
  std::string quoted() {
    skip_spaces();
    const char quote = peek();
    check(quote == '\'' || quote == '"', "expected a quoted string at byte ", position_, " of the header");
    const std::size_t end = text_.find(quote, position_ + 1);
    check(end != std::string::npos, "a string in the header has no closing quote");
    std::string value = text_.substr(position_ + 1, end - position_ - 1);
    position_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_spaces();
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}})
      if (text_.compare(position_, std::strlen(word), word) == 0) {
        position_ += std::strlen(word);
        return value;
      }
    throw Error(concat("expected True or False for fortran_order at byte ", position_, " of the header"));
  }
  std::int64_t integer() {
    skip_spaces();
    const std::size_t start = position_;
    std::int64_t value = 0;
    while (position_ < text_.size() && text_[position_] >= '0' && text_[position_] <= '9') {
      check(value <= (std::numeric_limits<std::int64_t>::max() - 9) / 10, "a dimension in the header is too large");
      value = value * 10 + (text_[position_++] - '0');
    }
    check(position_ > start, "expected a dimension at byte ", start, " of the header");
    return value;
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    skip_spaces();
    while (peek() != ')') {
      shape.push_back(integer());
      skip_spaces();
      if (peek() == ',') ++position_;
      else check(peek() == ')', "expected ',' or ')' in the shape at byte ", position_, " of the header");
      skip_spaces();
    }
    ++position_;
    return shape;
  }
  static Dtype dtype_of_descr(const std::string& descr) {
    for (const NpyType& type : kTypes)
      if (descr == type.descr) return type.dtype;
    throw Error(concat("dtype '", descr, "' is not one xgrad reads ('<f4', '<f8', '<i8', '|b1', '|u1')"));
  }

  const std::string& text_;
  std::size_t position_ = 0;
};

// ---- libzip ----------------------------------------------------------------------------------------

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;
struct FileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using File = std::unique_ptr<zip_file_t, FileCloser>;

std::string open_error(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string message = zip_error_strerror(&error);
  zip_error_fini(&error);
  return message;
}

// Why zip_close failed: libzip's own reason, or, where libzip recorded none (a write the system
// refused, e.g. a full disk or a file-size limit), the system's.
std::string close_error(zip_t* archive, int system_error) {
  zip_error_t* error = zip_get_error(archive);
  if (zip_error_code_zip(error) != ZIP_ER_OK) return zip_error_strerror(error);
  return std::strerror(system_error != 0 ? system_error : EIO);
}

// Reads exactly `length` bytes of a member or throws with libzip's reason (a bad CRC, a broken
// compressed stream, a member shorter than the archive's record of it).
void read_exactly(zip_file_t* file, void* out, std::size_t length) {
  auto* bytes = static_cast<char*>(out);
  while (length > 0) {
    const zip_int64_t got = zip_fread(file, bytes, length);
    check(got >= 0, "cannot read it (", zip_file_strerror(file), ")");
    check(got > 0, "it ends early");
    bytes += got;
    length -= static_cast<std::size_t>(got);
  }
}

// An array of `shape`, or an Error where the system has not the memory for it (a limit raised by
// set_max_loaded_elements beyond what the machine holds).
template <class T>
Array<T> allocate(const Shape& shape) {
  try {
    return Array<T>(to_xshape(shape));
  } catch (const std::bad_alloc&) {
    throw Error(concat("cannot allocate an array of shape ", shape_str(shape), " (", sizeof(T), "-byte elements)"));
  }
}

// The values of a member, once its header is known and its size checked: allocated with the
// header's shape and filled straight from the archive.
Tensor read_values(zip_file_t* file, const NpyHeader& header) {
  return visit_any_dtype(header.dtype, [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = allocate<T>(header.shape);
    if constexpr (std::is_same_v<T, bool>) {
      // A bool may only hold 0 or 1: read the bytes, then convert.
      std::string bytes(values.size(), '\0');
      read_exactly(file, bytes.data(), bytes.size());
      for (std::size_t i = 0; i < bytes.size(); ++i) values.data()[i] = bytes[i] != 0;
    } else {
      read_exactly(file, values.data(), values.size() * sizeof(T));
    }
    // libzip checks a member's CRC once it reaches the member's end.
    char extra = 0;
    const zip_int64_t beyond = zip_fread(file, &extra, 1);
    check(beyond >= 0, "cannot read it (", beyond < 0 ? zip_file_strerror(file) : "", ")");
    check(beyond == 0, "it is longer than its header says");
    return make_tensor(std::move(values));
  });
}

// Checks a header against the member's size before anything is allocated for it: a header may
// claim any shape, the archive's record says how many bytes there really are.
void check_size(const NpyHeader& header, zip_uint64_t member_size) {
  const std::size_t item_size = type_of(header.dtype).item_size;
  std::uint64_t count = 1;
  for (std::int64_t dim : header.shape) {
    const auto d = static_cast<std::uint64_t>(dim);
    check(d == 0 || count <= std::numeric_limits<std::uint64_t>::max() / item_size / d, "its header claims shape ",
          shape_str(header.shape), ", too large an array");
    count *= d;
  }
  const std::uint64_t data_size = count * item_size;
  const std::uint64_t available = member_size - header.data_offset;
  check(data_size <= available, "its header claims shape ", shape_str(header.shape), " (", data_size,
        " bytes of data) but only ", available, " bytes follow the header");
  check(data_size == available, "its header claims shape ", shape_str(header.shape), " (", data_size,
        " bytes of data) but ", available, " bytes follow the header");
  const auto limit = static_cast<std::uint64_t>(max_loaded_elements());
  check(count <= limit, "its header claims shape ", shape_str(header.shape), ", ", count,
        " elements, more than the limit of ", limit, " (xgrad::set_max_loaded_elements)");
}

// Deflate spends at least two bits on a match, which restores at most 258 bytes: 258 * 8 / 2.
constexpr std::uint64_t kDeflateMaxRatio = 1032;

// The size the archive records for a member is the one the reader trusts, so it must be one the
// member's compressed bytes can produce: numpy writes members stored (a size equal to the compressed
// size) or deflated (at most kDeflateMaxRatio times it). A larger claim is refused before it is
// allocated for.
void check_compression(const zip_stat_t& stat) {
  check((stat.valid & ZIP_STAT_COMP_METHOD) != 0 && (stat.valid & ZIP_STAT_COMP_SIZE) != 0,
        "the archive does not record how it is compressed");
  check(stat.comp_method == ZIP_CM_STORE || stat.comp_method == ZIP_CM_DEFLATE, "it is compressed with method ",
        stat.comp_method, "; xgrad reads stored and deflated members, as numpy writes them");
  const bool possible = stat.comp_method == ZIP_CM_STORE ? stat.size <= stat.comp_size
                                                         : stat.size / kDeflateMaxRatio <= stat.comp_size;
  check(possible, "the archive records ", stat.size, " bytes for it, more than its ", stat.comp_size,
        " compressed bytes can hold");
}

Entry read_member(zip_t* archive, zip_uint64_t index, const zip_stat_t& stat) {
  const std::string member = stat.name;
  const std::string suffix = ".npy";
  check(member.size() > suffix.size() && member.compare(member.size() - suffix.size(), suffix.size(), suffix) == 0,
        "it is not a .npy file");
  check((stat.valid & ZIP_STAT_SIZE) != 0, "the archive does not record its size");
  check_compression(stat);
  File file(zip_fopen_index(archive, index, 0));
  check(file != nullptr, "cannot open it (", zip_strerror(archive), ")");

  // Magic and version, then the header length, then the header: each read once its size is known
  // and checked against the member's size.
  std::string header_bytes(kVersionEnd, '\0');
  check(stat.size >= header_bytes.size(), "it is shorter than a .npy header (", stat.size, " bytes)");
  read_exactly(file.get(), header_bytes.data(), header_bytes.size());
  for (const auto& length_of : {npy_preamble_length, npy_header_length}) {
    const std::size_t have = header_bytes.size();
    const std::size_t need = length_of(header_bytes);
    check(need <= stat.size, "its header needs ", need, " bytes but the entry has ", stat.size);
    header_bytes.resize(need);
    read_exactly(file.get(), header_bytes.data() + have, need - have);
  }
  const NpyHeader header = parse_npy_header(header_bytes);
  check_size(header, stat.size);
  return {member.substr(0, member.size() - suffix.size()), read_values(file.get(), header)};
}

void write_empty_archive(const std::string& op, const std::string& path) {
  // "End of central directory": signature, then zero disks, members, sizes and comment length.
  const std::string end_record = std::string("PK\x05\x06", 4) + std::string(18, '\0');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << end_record;
  check(out.good(), op, ": cannot write ", path);
}

}  // namespace

// ---- .npy --------------------------------------------------------------------------------------------

std::string to_npy(const Tensor& tensor) {
  std::string header = concat("{'descr': '", type_of(tensor.dtype()).descr, "', 'fortran_order': False, 'shape': ",
                              shape_tuple(tensor.shape()), ", }");
  // Spaces, then a newline, up to the next multiple of 64 bytes (NumPy aligns the data so).
  const std::size_t unpadded = kVersionEnd + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes(kMagic, kMagicLength);
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);  // little-endian uint16
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  visit_any_dtype(tensor.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* values = tensor.data<T>();
    const auto count = static_cast<std::size_t>(tensor.numel());
    if constexpr (std::is_same_v<T, bool>) {
      for (std::size_t i = 0; i < count; ++i) bytes += values[i] ? '\x01' : '\x00';
    } else {
      bytes.append(reinterpret_cast<const char*>(values), count * sizeof(T));
    }
  });
  return bytes;
}

std::size_t npy_preamble_length(const std::string& first_bytes) {
  check(first_bytes.size() >= kVersionEnd && first_bytes.compare(0, kMagicLength, kMagic, kMagicLength) == 0,
        "it does not start with the .npy magic \"\\x93NUMPY\"");
  const auto major = static_cast<unsigned>(static_cast<unsigned char>(first_bytes[6]));
  const auto minor = static_cast<unsigned>(static_cast<unsigned char>(first_bytes[7]));
  check((major == 1 || major == 2 || major == 3) && minor == 0, ".npy format version ", major, ".", minor,
        " is not one xgrad reads (1.0, 2.0, 3.0)");
  // Format 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4.
  return major == 1 ? kVersionEnd + 2 : kVersionEnd + 4;
}

std::size_t npy_header_length(const std::string& preamble) {
  std::size_t length = 0;
  for (std::size_t i = preamble.size(); i-- > kVersionEnd;)
    length = length << 8 | static_cast<unsigned char>(preamble[i]);
  check(length <= kMaxHeaderLength, "its header claims ", length, " bytes; xgrad reads headers up to ",
        kMaxHeaderLength);
  return preamble.size() + length;
}

NpyHeader parse_npy_header(const std::string& header_bytes) {
  NpyHeader header = HeaderParser(header_bytes.substr(npy_preamble_length(header_bytes))).parse();
  header.data_offset = header_bytes.size();
  return header;
}

// ---- .npz ---------------------------------------------------------------------------------------------

void write(const std::string& op, const std::string& path, const std::vector<Entry>& entries) {
  // libzip deletes an archive left without members; numpy.savez() with no arrays writes the bare
  // end record, and so does this.
  if (entries.empty()) return write_empty_archive(op, path);
  int code = 0;
  Archive archive(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
  check(archive != nullptr, op, ": cannot create ", path, " (", open_error(code), ")");
  // libzip reads the members' bytes only in zip_close, so they are kept until then.
  std::vector<std::string> members;
  members.reserve(entries.size());
  for (const auto& [name, tensor] : entries) {
    members.push_back(to_npy(tensor));
    zip_source_t* source = zip_source_buffer(archive.get(), members.back().data(), members.back().size(), 0);
    const zip_int64_t index =
        source ? zip_file_add(archive.get(), (name + ".npy").c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0 && source) zip_source_free(source);
    check(index >= 0 && zip_set_file_compression(archive.get(), static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0) == 0,
          op, ": cannot add entry \"", name, "\" to ", path, " (", zip_strerror(archive.get()), ")");
  }
  errno = 0;
  if (zip_close(archive.get()) != 0) {
    const int system_error = errno;
    check(false, op, ": cannot write ", path, " (", close_error(archive.get(), system_error), ")");
  }
  archive.release();  // zip_close freed it
}

std::vector<Entry> read(const std::string& op, const std::string& path) {
  int code = 0;
  Archive archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  check(archive != nullptr, op, ": cannot open ", path, " as an .npz (zip) archive (", open_error(code), ")");
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  std::vector<Entry> entries;
  std::set<std::string> names;
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t stat;
    zip_stat_init(&stat);
    check(zip_stat_index(archive.get(), index, 0, &stat) == 0 && (stat.valid & ZIP_STAT_NAME) != 0, op, ": ", path,
          ": cannot read the record of entry ", i, " (", zip_strerror(archive.get()), ")");
    try {
      entries.push_back(read_member(archive.get(), index, stat));
    } catch (const Error& error) {
      throw Error(concat(op, ": ", path, ": entry \"", stat.name, "\": ", error.what()));
    }
    check(names.insert(entries.back().first).second, op, ": ", path, ": entry \"", stat.name, "\" appears twice");
  }
  return entries;
}

}  // namespace xgrad::npz
