#pragma once
// What the checkpoint tests share: a fresh directory per test for the model's and the optimiser's
// files, and the small model they train and resume.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <xgrad/xgrad.hpp>

namespace xgrad::testing {

class CheckpointFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory = std::filesystem::temp_directory_path() /
                (std::string("xgrad_") + info->test_suite_name() + "_" + info->name() + "_" +
                 std::to_string(static_cast<long long>(::getpid())));
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    model_path = (directory / "model.npz").string();
    optimizer_path = (directory / "optimizer.npz").string();
  }
  void TearDown() override { std::filesystem::remove_all(directory); }

  std::filesystem::path directory;
  std::string model_path, optimizer_path;
};

// Linear(3, 8), Tanh, Linear(8, 4), initialised from `seed`.
inline nn::Sequential checkpoint_model(std::uint64_t seed) {
  manual_seed(seed);
  return nn::Sequential{nn::Linear(3, 8), nn::Tanh(), nn::Linear(8, 4)};
}

}  // namespace xgrad::testing
