// toy_classifier: a small MLP learns to tell apart the three arms of a spiral (or two interleaved
// half-moons), then paints what it learned into decision_boundary.png.
//
//   toy_classifier [--steps 2000] [--lr 0.1] [--hidden 100] [--seed 0] [--dataset spiral|moons]
//                  [--out decision_boundary.png]
//
// Read it top to bottom: make the data, make the model, train it, measure it, draw it.
#include <xgrad/xgrad.hpp>

#include <stb_image_write.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace nn = xgrad::nn;
namespace optim = xgrad::optim;
using xgrad::Tensor;

// ---- settings ----------------------------------------------------------------------------------

struct Settings {
  int steps = 2000;
  double lr = 0.1;
  std::int64_t hidden = 100;
  std::uint64_t seed = 0;
  std::string dataset = "spiral";
  std::string out = "decision_boundary.png";
};

[[noreturn]] void usage(const char* program, int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: %s [--steps N] [--lr X] [--hidden H] [--seed S] [--dataset spiral|moons] [--out file.png]\n",
               program);
  std::exit(status);
}

// Says what was wrong (the flag or the value it did not understand) before the usage line.
[[noreturn]] void bad_arguments(const char* program, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program, what.c_str());
  usage(program, 2);
}

Settings parse_arguments(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage(argv[0], 0);
    const bool known = flag == "--steps" || flag == "--lr" || flag == "--hidden" || flag == "--seed" ||
                       flag == "--dataset" || flag == "--out";
    if (!known) bad_arguments(argv[0], "unknown flag " + flag);
    if (i + 1 >= argc) bad_arguments(argv[0], flag + " needs a value");
    const char* value = argv[++i];
    if (flag == "--steps") settings.steps = std::atoi(value);
    else if (flag == "--lr") settings.lr = std::atof(value);
    else if (flag == "--hidden") settings.hidden = std::atoll(value);
    else if (flag == "--seed") settings.seed = std::strtoull(value, nullptr, 10);
    else if (flag == "--dataset") settings.dataset = value;
    else settings.out = value;
  }
  if (settings.steps < 1) bad_arguments(argv[0], "--steps must be a positive whole number");
  if (settings.hidden < 1) bad_arguments(argv[0], "--hidden must be a positive whole number");
  if (!(settings.lr > 0)) bad_arguments(argv[0], "--lr must be a positive number");
  if (settings.dataset != "spiral" && settings.dataset != "moons")
    bad_arguments(argv[0], "--dataset must be spiral or moons, not " + settings.dataset);
  return settings;
}

// ---- data --------------------------------------------------------------------------------------

// Points as rows of x [n, 2] (float32) with their class in y [n] (int64). The plain vectors are
// kept for drawing.
struct Dataset {
  std::vector<float> points;  // x0, y0, x1, y1, ...
  std::vector<std::int64_t> labels;
  std::int64_t classes = 0;
  Tensor x, y;
};

// Wraps the plain vectors in the tensors the model trains on.
void make_tensors(Dataset& data) {
  const auto count = static_cast<std::int64_t>(data.labels.size());
  data.x = xgrad::from_buffer(data.points.data(), {count, 2});
  data.y = xgrad::from_buffer(data.labels.data(), {count});
}

// The classic three-arm spiral: for arm k, radius r grows from 0 to 1 while the angle turns through
// four radians starting at 4k, with a little noise on the angle. 100 points per arm.
Dataset make_spiral() {
  const int per_class = 100, classes = 3;
  const std::vector<float> noise = xgrad::randn({per_class * classes}).to_vector<float>();
  Dataset data;
  data.classes = classes;
  for (int k = 0; k < classes; ++k) {
    for (int i = 0; i < per_class; ++i) {
      const float r = static_cast<float>(i) / (per_class - 1);
      const float angle = 4.0f * (k + r) + 0.2f * noise[k * per_class + i];
      data.points.push_back(r * std::sin(angle));
      data.points.push_back(r * std::cos(angle));
      data.labels.push_back(k);
    }
  }
  make_tensors(data);
  return data;
}

// Two interleaved half circles (scikit-learn's make_moons): the upper one centred at (0, 0), the
// lower one at (1, 0.5), with Gaussian noise of 0.1. 150 points each.
Dataset make_moons() {
  const int per_class = 150;
  const std::vector<float> noise = xgrad::randn({2 * per_class * 2}).to_vector<float>();
  const float pi = 3.14159265358979f;
  Dataset data;
  data.classes = 2;
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < per_class; ++i) {
      const float angle = pi * i / (per_class - 1);
      const float x = k == 0 ? std::cos(angle) : 1.0f - std::cos(angle);
      const float y = k == 0 ? std::sin(angle) : 0.5f - std::sin(angle);
      const std::size_t n = 2 * (k * per_class + i);
      data.points.push_back(x + 0.1f * noise[n]);
      data.points.push_back(y + 0.1f * noise[n + 1]);
      data.labels.push_back(k);
    }
  }
  make_tensors(data);
  return data;
}

// ---- model and training ------------------------------------------------------------------------

// One hidden layer of ReLUs is enough to bend the boundary around the arms; the output is one
// score (logit) per class. Braces rather than parentheses: C++ evaluates a braced list left to
// right, so the layers draw their initial weights in order and a seed gives the same model with
// every compiler (a function call's arguments may be evaluated in any order).
nn::Sequential make_model(std::int64_t hidden, std::int64_t classes) {
  return nn::Sequential{nn::Linear(2, hidden), nn::ReLU(), nn::Linear(hidden, classes)};
}

// Fraction of points whose highest-scoring class is their label.
double accuracy(nn::Sequential& model, const Dataset& data) {
  xgrad::NoGradGuard no_grad;
  const Tensor predicted = xgrad::argmax(model(data.x), 1);
  const std::int64_t* guesses = predicted.data<std::int64_t>();
  std::size_t correct = 0;
  for (std::size_t i = 0; i < data.labels.size(); ++i) correct += guesses[i] == data.labels[i];
  return static_cast<double>(correct) / data.labels.size();
}

// On a terminal, one line rewritten in place; in a pipe or a log, a plain line every tenth.
class Progress {
 public:
  explicit Progress(int steps) : steps_(steps), terminal_(isatty(STDOUT_FILENO)) {}
  void report(int step, double loss, double accuracy) const {
    const bool last = step == steps_;
    if (terminal_) {
      std::printf("\rstep %5d/%d  loss %.4f  accuracy %.2f", step, steps_, loss, accuracy);
      if (last) std::printf("\n");
      std::fflush(stdout);
    } else if (last || step % std::max(1, steps_ / 10) == 0) {
      std::printf("step %5d/%d  loss %.4f  accuracy %.2f\n", step, steps_, loss, accuracy);
    }
  }
  // How often report() is worth calling (an accuracy costs a forward pass).
  int every() const { return terminal_ ? std::max(1, steps_ / 200) : std::max(1, steps_ / 10); }

 private:
  int steps_;
  bool terminal_;
};

// Full-batch gradient descent with momentum: every step sees all points.
void train(nn::Sequential& model, const Dataset& data, const Settings& settings) {
  nn::CrossEntropyLoss criterion;
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(settings.lr).momentum(0.9));
  const Progress progress(settings.steps);
  for (int step = 1; step <= settings.steps; ++step) {
    optimizer.zero_grad();
    const Tensor loss = criterion(model(data.x), data.y);
    loss.backward();
    optimizer.step();
    if (step % progress.every() == 0 || step == settings.steps)
      progress.report(step, loss.item<double>(), accuracy(model, data));
  }
}

// ---- picture -----------------------------------------------------------------------------------

struct Color {
  unsigned char r, g, b;
};
const Color kStrong[] = {{214, 39, 40}, {31, 119, 180}, {44, 160, 44}};
const Color kPale[] = {{250, 205, 205}, {200, 222, 242}, {204, 236, 204}};

// Every pixel coloured by the class the model predicts there (one row of pixels per forward pass),
// then every data point as a dot in its true class's colour with a dark rim.
bool draw_decision_boundary(nn::Sequential& model, const Dataset& data, const std::string& path) {
  const int size = 400;
  float low = 0, high = 0;
  for (float v : data.points) low = std::min(low, v), high = std::max(high, v);
  const float margin = 0.1f * (high - low);
  low -= margin, high += margin;
  const float scale = (high - low) / size;

  std::vector<unsigned char> pixels(size * size * 3);
  auto paint = [&](int px, int py, Color c) {
    if (px < 0 || py < 0 || px >= size || py >= size) return;
    unsigned char* p = &pixels[3 * (py * size + px)];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  };

  xgrad::NoGradGuard no_grad;
  std::vector<float> row(2 * size);
  for (int py = 0; py < size; ++py) {
    for (int px = 0; px < size; ++px) {
      row[2 * px] = low + (px + 0.5f) * scale;
      row[2 * px + 1] = high - (py + 0.5f) * scale;  // y grows upwards in the picture
    }
    const Tensor classes = xgrad::argmax(model(xgrad::from_buffer(row.data(), {std::size_t(size), 2})), 1);
    for (int px = 0; px < size; ++px) paint(px, py, kPale[classes.data<std::int64_t>()[px]]);
  }
  for (std::size_t i = 0; i < data.labels.size(); ++i) {
    const int cx = static_cast<int>((data.points[2 * i] - low) / scale);
    const int cy = static_cast<int>((high - data.points[2 * i + 1]) / scale);
    for (int dy = -4; dy <= 4; ++dy)
      for (int dx = -4; dx <= 4; ++dx) {
        const int d2 = dx * dx + dy * dy;
        if (d2 <= 16) paint(cx + dx, cy + dy, d2 <= 9 ? kStrong[data.labels[i]] : Color{40, 40, 40});
      }
  }
  return stbi_write_png(path.c_str(), size, size, 3, pixels.data(), size * 3) != 0;
}

// ---- main --------------------------------------------------------------------------------------

int main(int argc, char** argv) {
  const Settings settings = parse_arguments(argc, argv);
  xgrad::manual_seed(settings.seed);

  const Dataset data = settings.dataset == "spiral" ? make_spiral() : make_moons();
  nn::Sequential model = make_model(settings.hidden, data.classes);
  std::printf("%s: %zu points, %lld classes\n", settings.dataset.c_str(), data.labels.size(),
              static_cast<long long>(data.classes));
  std::cout << model << '\n' << std::flush;

  const auto start = std::chrono::steady_clock::now();
  train(model, data, settings);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("trained %d steps in %.2f s\n", settings.steps, seconds);
  std::printf("accuracy %.2f\n", accuracy(model, data));
  if (!draw_decision_boundary(model, data, settings.out)) {
    std::fprintf(stderr, "could not write %s\n", settings.out.c_str());
    return 1;
  }
  std::printf("wrote %s\n", settings.out.c_str());
  return 0;
}
