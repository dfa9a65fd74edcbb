// Token windows as a character model trains on them. The input is
//   block_size (1 byte) | stride (1 byte) | batch size (1 byte) | the text, one token per byte
// The tokens are every stride-th byte of the text (a strided view when the stride is above one), so
// both contiguous and non-contiguous token tensors reach TokenWindows. Whatever TokenWindows accepts,
// every example and every batch a loader draws must be a window of the tokens and its target the
// same window shifted by one.
#include <algorithm>

#include <xgrad/xgrad.hpp>

#include "fuzz.hpp"

namespace xgrad::fuzz {

namespace {

using Window = std::vector<std::int64_t>;

// Every window of `tokens` of `block_size + 1` tokens (data and target together), in order.
std::vector<Window> expected_windows(const std::vector<std::int64_t>& tokens, std::int64_t block_size) {
  std::vector<Window> windows;
  const auto width = static_cast<std::size_t>(block_size) + 1;
  for (std::size_t start = 0; start + width <= tokens.size(); ++start)
    windows.emplace_back(tokens.begin() + static_cast<std::ptrdiff_t>(start),
                         tokens.begin() + static_cast<std::ptrdiff_t>(start + width));
  return windows;
}

// Appends each row of a batch as one window: its data, then its target's last token, after checking
// that the target is the data shifted by one.
void collect(const Tensor& data, const Tensor& target, std::vector<Window>& seen) {
  if (data.dim() != 2 || data.shape() != target.shape()) throw Finding("TokenWindows: data and target shapes differ");
  const std::int64_t width = data.size(1);
  if (!data.slice(1, 1, width).equal(target.slice(1, 0, width - 1)))
    throw Finding("TokenWindows: a target is not its data shifted by one");
  const Tensor rows = cat({data, target.slice(1, width - 1, width)}, 1).contiguous();
  const std::int64_t* values = rows.data_ptr<std::int64_t>();
  for (std::int64_t row = 0; row < rows.size(0); ++row)
    seen.emplace_back(values + row * (width + 1), values + (row + 1) * (width + 1));
}

}  // namespace

void token_windows(Bytes data, std::size_t size) {
  Reader input(data, size);
  const std::int64_t block_size = static_cast<std::int64_t>(input.byte()) - 8;  // a few invalid ones too
  const std::uint8_t shape = input.byte();
  const std::int64_t stride = shape % 4 + 1;
  const std::size_t batch_size = (shape >> 2) % 16 + 1;
  const std::size_t workers = shape >> 6 & 1 ? 2 : 0;
  const std::vector<std::uint8_t> text = input.rest();

  std::vector<std::int64_t> tokens;
  for (std::size_t i = 0; i < text.size(); i += static_cast<std::size_t>(stride)) tokens.push_back(text[i]);
  std::vector<Window> seen;
  try {
    const Tensor all = tensor(std::vector<std::int64_t>(text.begin(), text.end()), kInt64);
    data::datasets::TokenWindows windows(all.slice(0, 0, all.numel(), stride), block_size);
    const data::Example<> last = windows.get(*windows.size() - 1);
    collect(last.data.unsqueeze(0), last.target.unsqueeze(0), seen);
    auto loader = data::make_data_loader(std::move(windows).map(data::transforms::Stack<>()),
                                         data::DataLoaderOptions(batch_size).workers(workers));
    for (auto& batch : *loader) collect(batch.data, batch.target, seen);
  } catch (const Error&) {
    // A block size that leaves no window, or too short a text: refused with a message.
    return;
  }
  // The last window, read alone first, then every window once in the epoch.
  std::vector<Window> expected = expected_windows(tokens, block_size);
  if (!expected.empty()) expected.push_back(expected.back());
  std::sort(expected.begin(), expected.end());
  std::sort(seen.begin(), seen.end());
  if (seen != expected) throw Finding("TokenWindows: the windows read are not the text's windows, each once");
}

}  // namespace xgrad::fuzz
