// xgrad::save / xgrad::load for modules: bitwise round trips through one .npz file, NumPy's own
// files (tests/golden/npz/, written by make_golden_npz.py), the .npy header, and every kind of bad
// file, each of which must leave the module untouched.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <xgrad/nn/npz_impl.hpp>

#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

#include "compare.hpp"
#include "golden.hpp"
#include "scoped_load_limit.hpp"

namespace xgrad {
namespace {

namespace fs = std::filesystem;
using testing::throws_error_containing;

// A fresh scratch file name per test, removed afterwards.
class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory = fs::temp_directory_path() / (std::string("xgrad_checkpoint_") + info->name() + "_" +
                                             std::to_string(static_cast<long long>(::getpid())));
    fs::remove_all(directory);
    fs::create_directories(directory);
    path = (directory / "model.npz").string();
  }
  void TearDown() override { fs::remove_all(directory); }

  fs::path directory;
  std::string path;
};

// The raw bytes of a tensor's elements: equal bytes mean a bitwise round trip (NaN payloads, -0.0).
std::string bytes_of(const Tensor& t) {
  const auto n = static_cast<std::size_t>(t.numel());
  switch (t.dtype()) {
    case kFloat32: return std::string(reinterpret_cast<const char*>(t.data<float>()), n * 4);
    case kFloat64: return std::string(reinterpret_cast<const char*>(t.data<double>()), n * 8);
    case kInt64: return std::string(reinterpret_cast<const char*>(t.data<std::int64_t>()), n * 8);
    case kBool: {
      std::string bytes;
      for (std::size_t i = 0; i < n; ++i) bytes += t.data<bool>()[i] ? '\1' : '\0';
      return bytes;
    }
    case kUInt8: return std::string(reinterpret_cast<const char*>(t.data<std::uint8_t>()), n);
  }
  return {};
}

// Every dtype, 0-dim tensors, and the float values a text format would lose.
struct EveryDtypeImpl : nn::Module {
  explicit EveryDtypeImpl(std::uint64_t seed) {
    manual_seed(seed);
    weight = register_parameter("weight", randn({3, 4}));
    scale = register_parameter("scale", randn({}, kFloat64));
    counts = register_buffer("counts", randint(0, 1000, {5}));
    steps = register_buffer("steps", tensor(static_cast<std::int64_t>(seed) << 40));
    mask = register_buffer("mask", randn({2, 3}).gt(0.0));
    pixels = register_buffer("pixels", randint(0, 256, {4}).to(kUInt8));
    special = register_buffer("special", randn({6}, kFloat64));
  }
  Tensor weight, scale, counts, steps, mask, pixels, special;
};
XGRAD_MODULE(EveryDtype);

EveryDtype every_dtype(std::uint64_t seed) {
  EveryDtype module(seed);
  double* special = module->special.mutable_data<double>();
  special[0] = std::numeric_limits<double>::quiet_NaN();
  special[1] = -0.0;
  special[2] = -std::numeric_limits<double>::infinity();
  special[3] = std::numeric_limits<double>::denorm_min();
  return module;
}

std::vector<std::pair<std::string, std::string>> all_bytes(const nn::Module& module) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : module.named_parameters()) out.emplace_back(item.key(), bytes_of(item.value()));
  for (const auto& item : module.named_buffers()) out.emplace_back(item.key(), bytes_of(item.value()));
  return out;
}

TEST_F(Checkpoint, RoundTripIsBitwiseForEveryDtype) {
  const EveryDtype saved = every_dtype(1);
  xgrad::save(saved, path);
  EveryDtype restored = every_dtype(2);
  const Tensor held = restored->weight;  // e.g. by an optimiser
  ASSERT_NE(all_bytes(*restored), all_bytes(*saved));
  const auto version = restored->weight._version();
  xgrad::load(restored, path);
  EXPECT_EQ(all_bytes(*restored), all_bytes(*saved));
  EXPECT_EQ(bytes_of(held), bytes_of(saved->weight));  // loaded in place
  EXPECT_GT(restored->weight._version(), version);    // as an in-place op
  EXPECT_EQ(restored->scale.dim(), 0);
}

TEST_F(Checkpoint, NonContiguousParametersSaveAndLoadThroughTheirStrides) {
  struct TransposedImpl : nn::Module {
    TransposedImpl(std::int64_t seed) {
      manual_seed(static_cast<std::uint64_t>(seed));
      weight = register_parameter("weight", randn({4, 3}).t().detach());
    }
    Tensor weight;
  };
  auto saved = std::make_shared<TransposedImpl>(1);
  auto restored = std::make_shared<TransposedImpl>(2);
  ASSERT_FALSE(saved->weight.is_contiguous());
  xgrad::save(*saved, path);
  xgrad::load(*restored, path);
  EXPECT_FALSE(restored->weight.is_contiguous());
  EXPECT_TRUE(restored->weight.equal(saved->weight));
  const auto entries = npz::read("test", path);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].second.sizes(), saved->weight.sizes());
  EXPECT_TRUE(entries[0].second.equal(saved->weight));
}

TEST_F(Checkpoint, EntriesAreNamedAsNamedParametersAndBuffers) {
  const EveryDtype module = every_dtype(1);
  xgrad::save(module, path);
  std::vector<std::string> names;
  for (const auto& [name, value] : npz::read("test", path)) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "scale", "counts", "steps", "mask", "pixels", "special"}));
}

struct TwoLayerImpl : nn::Module {
  TwoLayerImpl() {
    fc1 = register_module("fc1", nn::Linear(2, 4));
    body = register_module("body", nn::Sequential{nn::Linear(4, 4), nn::Tanh()});
    register_buffer("seen", zeros({}, kInt64));
  }
  Tensor forward(Tensor x) { return body(fc1(x)); }
  nn::Linear fc1{nullptr};
  nn::Sequential body{nullptr};
};
XGRAD_MODULE(TwoLayer);

TEST_F(Checkpoint, EveryWayToNameAModule) {
  manual_seed(1);
  TwoLayer net;
  std::vector<std::string> names;
  xgrad::save(net, path);  // a user's holder
  for (const auto& [name, value] : npz::read("test", path)) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "body.0.weight", "body.0.bias", "seen"}));

  manual_seed(2);
  TwoLayer other;
  xgrad::load(other, path);
  EXPECT_EQ(all_bytes(*other), all_bytes(*net));

  manual_seed(3);
  TwoLayer by_reference;
  nn::Module& module = *by_reference;
  xgrad::load(module, path);  // a Module&
  EXPECT_EQ(all_bytes(*by_reference), all_bytes(*net));

  manual_seed(4);
  std::shared_ptr<nn::Module> pointer = TwoLayer().ptr();
  xgrad::load(pointer, path);  // a shared_ptr<Module>
  EXPECT_EQ(all_bytes(*pointer), all_bytes(*net));
  xgrad::save(pointer, path);

  manual_seed(5);
  nn::Sequential sequential{nn::Linear(2, 3), nn::ReLU()};  // nn::Sequential
  xgrad::save(sequential, path);
  nn::Sequential again{nn::Linear(2, 3), nn::ReLU()};
  xgrad::load(again, path);
  EXPECT_EQ(all_bytes(*again), all_bytes(*sequential));
}

TEST_F(Checkpoint, AModuleWithoutTensorsRoundTrips) {
  nn::ReLU relu;
  xgrad::save(relu, path);
  EXPECT_TRUE(npz::read("test", path).empty());
  xgrad::load(relu, path);
}

TEST_F(Checkpoint, SavingReplacesAnExistingFile) {
  xgrad::save(every_dtype(1), path);
  manual_seed(1);
  nn::Linear small(2, 3);
  xgrad::save(small, path);
  EXPECT_EQ(npz::read("test", path).size(), 2u);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::save(small, (directory / "no" / "such" / "dir.npz").string()); },
                                      {"save", "dir.npz"}));
}

// A save that fails part-way (here: the process may write files of at most 64 KiB, as under a full
// disk or a quota) throws with the system's reason and leaves the checkpoint it was replacing intact,
// since the new archive is written beside it and renamed over it only when complete.
TEST_F(Checkpoint, AFailedSaveKeepsTheOldFileAndSaysWhy) {
  manual_seed(2);
  nn::Linear small(4, 3);
  xgrad::save(small, path);
  const std::string before = bytes_of(small->weight);
  nn::Linear large(512, 512);  // 1 MiB of weights

  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
  rlimit small_limit = old_limit;
  small_limit.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small_limit), 0);
  const bool threw = throws_error_containing([&] { xgrad::save(large, path); }, {"save", path, "File too large"});
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(threw);

  manual_seed(3);
  nn::Linear reloaded(4, 3);
  xgrad::load(reloaded, path);
  EXPECT_EQ(bytes_of(reloaded->weight), before);
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(directory), fs::directory_iterator()), 1);
}

// ---- the .npy header ---------------------------------------------------------------------------------

TEST(NpyFormat, HeaderIsNumpysFormat10PaddedTo64Bytes) {
  const std::string bytes = npz::to_npy(zeros({4, 2}, kFloat64));
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_length = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  EXPECT_EQ((10 + header_length) % 64, 0u);
  const std::string header = bytes.substr(10, header_length);
  EXPECT_EQ(header.substr(0, header.find('}') + 1), "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }");
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + header_length + 8 * 8);

  for (const auto& [t, descr, shape] :
       {std::tuple<Tensor, std::string, std::string>{zeros({}, kInt64), "'<i8'", "()"},
        {zeros({3}), "'<f4'", "(3,)"},
        {zeros({2}, kBool), "'|b1'", "(2,)"},
        {zeros({1, 0, 2}, kUInt8), "'|u1'", "(1, 0, 2)"}}) {
    const std::string text = npz::to_npy(t);
    EXPECT_NE(text.find("'descr': " + descr), std::string::npos) << text;
    EXPECT_NE(text.find("'shape': " + shape + ","), std::string::npos) << text;
  }
}

TEST(NpyFormat, ParserTakesAnyKeyOrderAndVersion2) {
  std::string header = "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i8'}";
  header += std::string(64 - (12 + header.size() + 1) % 64, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  EXPECT_EQ(npz::npy_preamble_length(bytes), 12u);
  EXPECT_EQ(npz::npy_header_length(bytes.substr(0, 12)), bytes.size());
  const npz::NpyHeader parsed = npz::parse_npy_header(bytes);
  EXPECT_EQ(parsed.dtype, kInt64);
  EXPECT_EQ(parsed.shape, (Shape{2, 3}));
  EXPECT_EQ(parsed.data_offset, bytes.size());
}

// ---- NumPy's own files ---------------------------------------------------------------------------------

// The module make_golden_npz.py's arrays() belong to.
struct NumpyArraysImpl : nn::Module {
  NumpyArraysImpl() {
    weight = register_parameter("weight", zeros({3, 2}));
    bias = register_parameter("bias", zeros({3}));
    running_mean = register_buffer("running_mean", zeros({5}, kFloat64));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
    mask = register_buffer("mask", zeros({2, 2}, kBool));
    pixels = register_buffer("pixels", zeros({6}, kUInt8));
  }
  Tensor weight, bias, running_mean, num_batches_tracked, mask, pixels;
};
XGRAD_MODULE(NumpyArrays);

void expect_numpys_values(const NumpyArrays& m) {
  std::vector<float> weight;
  for (int i = 0; i < 6; ++i) weight.push_back(static_cast<float>(i) * 0.25f - 1.0f);
  EXPECT_EQ(m->weight.to_vector<float>(), weight);
  const auto bias = m->bias.to_vector<float>();
  EXPECT_EQ(bias[0], 0.5f);
  EXPECT_TRUE(bias[1] == 0.0f && std::signbit(bias[1]));
  EXPECT_EQ(bias[2], std::numeric_limits<float>::infinity());
  // np.linspace(-1, 1, 5) / 3: the division is the last rounding, so C++ gets the same doubles.
  EXPECT_EQ(m->running_mean.to_vector<double>(), (std::vector<double>{-1.0 / 3, -0.5 / 3, 0.0, 0.5 / 3, 1.0 / 3}));
  EXPECT_EQ(m->num_batches_tracked.item<std::int64_t>(), 7);
  EXPECT_EQ(m->mask.to_vector<bool>(), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(m->pixels.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{250, 251, 252, 253, 254, 255}));
}

TEST(CheckpointNumpy, LoadsWhatNumpySavezWrites) {
  NumpyArrays m;
  xgrad::load(m, testing::golden_path("npz/numpy_savez.npz"));
  expect_numpys_values(m);
}

TEST(CheckpointNumpy, LoadsWhatNumpySavezCompressedWrites) {
  NumpyArrays m;
  xgrad::load(m, testing::golden_path("npz/numpy_savez_compressed.npz"));
  expect_numpys_values(m);
}

// ---- bad files ------------------------------------------------------------------------------------------

// Each broken archive of tests/golden/npz/ is rejected with the file and the entry named, and the
// module keeps its values.
TEST(CheckpointNumpy, BrokenEntriesAreErrorsAndChangeNothing) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"bad_magic.npz", {"magic"}},
      {"bad_version.npz", {"version 4.0"}},
      {"bad_header.npz", {"header"}},
      {"unknown_key.npz", {"unknown key 'extra'"}},
      {"big_endian.npz", {"'>f4'"}},
      {"float16.npz", {"'<f2'"}},
      {"fortran_order.npz", {"Fortran order"}},
      {"short_data.npz", {"[3, 2]", "24 bytes", "only 20 bytes"}},
      {"long_data.npz", {"[3, 2]", "24 bytes", "28 bytes"}},
      {"huge_shape.npz", {"[1099511627776, 1048576]", "4611686018427387904 bytes", "only 24 bytes"}},
      {"overflowing_shape.npz", {"[4611686018427387904, 8]", "too large"}},
      {"short_header.npz", {"header needs 10 bytes", "has 9"}},
      {"inflates_past_its_size.npz", {"records 4000000000 bytes", "compressed bytes can hold"}},
      {"bzip2_member.npz", {"compressed with method 12", "stored and deflated"}},
  };
  for (const auto& [file, fragments] : cases) {
    NumpyArrays m;
    const std::string path = testing::golden_path("npz/" + file);
    std::vector<std::string> expected{"load: ", path, "entry \"weight.npy\""};
    expected.insert(expected.end(), fragments.begin(), fragments.end());
    EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, path); }, expected)) << file;
    EXPECT_EQ(m->weight.to_vector<float>(), std::vector<float>(6, 0.0f)) << file;
  }
  NumpyArrays m;
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, testing::golden_path("npz/not_npy.npz")); },
                                      {"entry \"weight.txt\"", "not a .npy file"}));
}

TEST(CheckpointNumpy, AnEntryAboveTheElementLimitIsRefusedBeforeItIsRead) {
  NumpyArrays m;
  const std::string path = testing::golden_path("npz/numpy_savez.npz");
  {
    const testing::ScopedLoadLimit limit(5);
    EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, path); },
                                        {"entry \"weight.npy\"", "[3, 2], 6 elements", "the limit of 5",
                                         "xgrad::set_max_loaded_elements"}));
    EXPECT_EQ(m->weight.to_vector<float>(), std::vector<float>(6, 0.0f));
  }
  xgrad::load(m, path);
  expect_numpys_values(m);
  EXPECT_TRUE(throws_error_containing([] { xgrad::set_max_loaded_elements(0); },
                                      {"set_max_loaded_elements", "at least 1", "got 0"}));
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_F(Checkpoint, NotAZipOrTruncatedOrCorruptIsAnError) {
  EveryDtype m = every_dtype(2);
  const auto before = all_bytes(*m);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, path); }, {"load", path, "No such file"}));
  write_all(path, "weight,1,2,3\n");
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, path); }, {"load", path, "zip"}));

  xgrad::save(every_dtype(1), path);
  const std::string bytes = read_all(path);
  write_all(path, bytes.substr(0, bytes.size() - 30));  // the end of the central directory is cut
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, path); }, {"load", path}));
  write_all(path, bytes.substr(0, bytes.size() / 2));
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, path); }, {"load", path}));

  // One bit of weight's data flipped: the member's CRC no longer matches.
  std::string corrupt = bytes;
  const std::size_t data = corrupt.find("\x93NUMPY") + 128 + 5;
  corrupt[data] = static_cast<char>(corrupt[data] ^ 0x10);
  write_all(path, corrupt);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(m, path); }, {"load", path, "entry \"weight.npy\"", "CRC"}));
  EXPECT_EQ(all_bytes(*m), before);
}

TEST_F(Checkpoint, MissingExtraMisshapenOrMistypedEntriesAreErrors) {
  manual_seed(1);
  nn::Sequential saved{nn::Linear(2, 4), nn::ReLU(), nn::Linear(4, 3)};
  xgrad::save(saved, path);

  manual_seed(2);
  nn::Sequential longer{nn::Linear(2, 4), nn::ReLU(), nn::Linear(4, 3), nn::Linear(3, 3)};
  const auto before = all_bytes(*longer);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(longer, path); },
                                      {"load: ", path, "no entry \"3.weight\"", "[3, 3]", "float32"}));
  EXPECT_EQ(all_bytes(*longer), before);

  nn::Sequential shorter{nn::Linear(2, 4)};
  const auto shorter_before = all_bytes(*shorter);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(shorter, path); },
                                      {"load: ", path, "entry \"2.", "matches no parameter or buffer"}));
  EXPECT_EQ(all_bytes(*shorter), shorter_before);

  nn::Sequential wider{nn::Linear(2, 5), nn::ReLU(), nn::Linear(5, 3)};
  const auto wider_before = all_bytes(*wider);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(wider, path); },
                                      {"load: ", path, "entry \"0.weight\"", "[4, 2]", "[5, 2]"}));
  EXPECT_EQ(all_bytes(*wider), wider_before);

  nn::Sequential doubles{nn::Linear(nn::LinearOptions(2, 4).dtype(kFloat64)), nn::ReLU(),
                         nn::Linear(nn::LinearOptions(4, 3).dtype(kFloat64))};
  const auto doubles_before = all_bytes(*doubles);
  EXPECT_TRUE(throws_error_containing([&] { xgrad::load(doubles, path); },
                                      {"load: ", path, "entry \"0.weight\"", "float32", "float64"}));
  EXPECT_EQ(all_bytes(*doubles), doubles_before);
}

}  // namespace
}  // namespace xgrad
