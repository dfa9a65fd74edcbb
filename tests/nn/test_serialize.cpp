// nn::save / nn::load: a round trip through .npy files, the file format, and every mismatch.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "compare.hpp"

namespace xgrad {
namespace {

namespace fs = std::filesystem;
using testing::throws_error_containing;

// A fresh empty directory per test, removed afterwards.
class Serialize : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory = fs::temp_directory_path() / (std::string("xgrad_serialize_") + info->name() + "_" +
                                             std::to_string(static_cast<long long>(::getpid())));
    fs::remove_all(directory);
  }
  void TearDown() override { fs::remove_all(directory); }

  fs::path directory;
};

nn::Sequential small_net(std::uint64_t seed, std::int64_t hidden = 4, Dtype dtype = kFloat32) {
  manual_seed(seed);
  return nn::Sequential{nn::Linear(nn::LinearOptions(2, hidden).dtype(dtype)), nn::ReLU(),
                        nn::Linear(nn::LinearOptions(hidden, 3).dtype(dtype))};
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(Serialize, RoundTripRestoresEveryParameter) {
  nn::Sequential saved = small_net(1);
  nn::save(saved, directory.string());
  nn::Sequential restored = small_net(2);
  const Tensor held = restored->parameters()[0];  // e.g. by an optimiser
  ASSERT_NE(held.to_vector<float>(), saved->parameters()[0].to_vector<float>());
  nn::load(restored, directory.string());
  const auto expected = saved->named_parameters();
  const auto actual = restored->named_parameters();
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(actual[i].second.to_vector<float>(), expected[i].second.to_vector<float>()) << expected[i].first;
  EXPECT_EQ(held.to_vector<float>(), saved->parameters()[0].to_vector<float>());
}

TEST_F(Serialize, WritesOneNumpyFilePerParameter) {
  nn::save(small_net(1, 4, kFloat64), directory.string());
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(directory)) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"0.bias.npy", "0.weight.npy", "2.bias.npy", "2.weight.npy"}));
  // NumPy's format 1.0: magic, version, header dict with dtype, C order and the shape.
  const std::string weight = read_all(directory / "0.weight.npy");
  EXPECT_EQ(weight.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_NE(weight.find("'descr': '<f8'"), std::string::npos);
  EXPECT_NE(weight.find("'fortran_order': False"), std::string::npos);
  EXPECT_NE(weight.find("'shape': (4, 2)"), std::string::npos);
  EXPECT_EQ(weight.size() % 64, (8u * 8u) % 64);  // header padded to 64 bytes, then 8 doubles
}

TEST_F(Serialize, ShapeMismatchNamesParameterAndBothShapes) {
  nn::save(small_net(1, 4), directory.string());
  nn::Sequential wider = small_net(2, 5);
  const auto before = wider->parameters()[0].to_vector<float>();
  EXPECT_TRUE(throws_error_containing([&] { nn::load(wider, directory.string()); },
                                      {"load", "\"0.weight\"", "[5, 2]", "[4, 2]"}));
  // Nothing was changed by the failed load.
  EXPECT_EQ(wider->parameters()[0].to_vector<float>(), before);
}

TEST_F(Serialize, DtypeMismatchNamesBothDtypes) {
  nn::save(small_net(1, 4, kFloat64), directory.string());
  nn::Sequential single = small_net(1, 4, kFloat32);
  EXPECT_TRUE(throws_error_containing([&] { nn::load(single, directory.string()); },
                                      {"load", "\"0.weight\"", "float32", "float64"}));
}

TEST_F(Serialize, MissingAndUnexpectedFilesAreErrors) {
  nn::save(small_net(1), directory.string());
  fs::remove(directory / "2.bias.npy");
  nn::Sequential net = small_net(1);
  EXPECT_TRUE(throws_error_containing([&] { nn::load(net, directory.string()); }, {"load", "2.bias.npy", "\"2.bias\""}));

  nn::save(small_net(1), directory.string());
  nn::Sequential shorter(nn::Linear(2, 4));
  EXPECT_TRUE(throws_error_containing([&] { nn::load(shorter, directory.string()); },
                                      {"load", "matches no parameter", "\"2."}));
  EXPECT_TRUE(throws_error_containing([&] { nn::load(net, (directory / "nowhere").string()); },
                                      {"load", "not a directory"}));
}

TEST_F(Serialize, TruncatedFileIsAnError) {
  nn::save(small_net(1), directory.string());
  const std::string bytes = read_all(directory / "0.weight.npy");
  std::ofstream(directory / "0.weight.npy", std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 4);
  nn::Sequential net = small_net(1);
  EXPECT_TRUE(throws_error_containing([&] { nn::load(net, directory.string()); }, {"load", "0.weight.npy"}));
}

}  // namespace
}  // namespace xgrad
