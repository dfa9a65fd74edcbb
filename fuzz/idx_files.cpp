// IDX images and labels as MNIST reads them. The input is
//   flags (1 byte) | images' length (2 bytes) | the images file | the labels file
// where flag bit 0 (bit 1) writes the images (labels) gzipped under the .gz name, so that mutations
// reach both the gzip layer and the IDX header behind it.
#include <zlib.h>

#include <xgrad/xgrad.hpp>

#include "fuzz.hpp"

namespace xgrad::fuzz {

namespace {

// Writes `bytes` as `name`, or gzipped as `name`.gz.
void write_idx(const ScratchDirectory& root, const std::string& name, const std::vector<std::uint8_t>& bytes,
               bool gzipped) {
  if (!gzipped) {
    root.write(name, bytes.data(), bytes.size());
    return;
  }
  gzFile file = gzopen((root.path() + "/" + name + ".gz").c_str(), "wb");
  if (file == nullptr) throw std::runtime_error("fuzz: cannot create a .gz scratch file");
  const int written = bytes.empty() ? 0 : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
  if (written != static_cast<int>(bytes.size())) throw std::runtime_error("fuzz: cannot write a .gz scratch file");
}

// What a dataset that loaded must satisfy: as many labels as images, pixels in [0, 1], labels in
// [0, 9], and examples that read back the rows they index.
void check_loaded(data::datasets::MNIST& dataset) {
  const Tensor& images = dataset.images();
  const Tensor& targets = dataset.targets();
  if (images.dim() != 4 || images.size(1) != 1 || images.size(2) != 28 || images.size(3) != 28)
    throw Finding("MNIST loaded images of shape " + shape_str(images.shape()));
  if (targets.dim() != 1 || targets.size(0) != images.size(0)) throw Finding("MNIST: labels and images disagree");
  if (images.numel() > 0 && (images.min().item<float>() < 0.0f || images.max().item<float>() > 1.0f))
    throw Finding("MNIST: a pixel outside [0, 1]");
  if (targets.numel() > 0 && (targets.min().item<std::int64_t>() < 0 || targets.max().item<std::int64_t>() > 9))
    throw Finding("MNIST: a label outside [0, 9]");
  const std::size_t count = *dataset.size();
  if (count == 0) return;
  const std::size_t last = count - 1;
  const data::Example<> example = dataset.get(last);
  if (!example.data.equal(images[static_cast<std::int64_t>(last)])) throw Finding("MNIST: get() read another row");
  const data::Example<> batch = dataset.stacked_batch(std::vector<std::size_t>{last, 0});
  if (batch.data.size(0) != 2 || !batch.target[1].equal(targets[0]))
    throw Finding("MNIST: stacked_batch() read other rows");
}

}  // namespace

void idx_files(Bytes data, std::size_t size) {
  Reader input(data, size);
  const std::uint8_t flags = input.byte();
  const std::vector<std::uint8_t> images = input.take(input.u16());
  const std::vector<std::uint8_t> labels = input.rest();
  const ScratchDirectory root;
  write_idx(root, "train-images-idx3-ubyte", images, (flags & 1) != 0);
  write_idx(root, "train-labels-idx1-ubyte", labels, (flags & 2) != 0);
  try {
    data::datasets::MNIST dataset(root.path(), data::datasets::MNIST::Mode::kTrain);
    check_loaded(dataset);
  } catch (const Error&) {
    // A file MNIST refuses, with a message: the promised outcome.
  }
}

}  // namespace xgrad::fuzz
