#include "canvas.hpp"

#include <stb_easy_font.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace examples {

Canvas::Canvas(int width, int height, Color background)
    : width_(width), height_(height), pixels_(static_cast<std::size_t>(width) * height * 3) {
  fill_rect(0, 0, width, height, background);
}

void Canvas::set(int x, int y, Color color) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 3];
  p[0] = color.r;
  p[1] = color.g;
  p[2] = color.b;
}

void Canvas::fill_rect(int x, int y, int w, int h, Color color) {
  for (int row = std::max(y, 0); row < std::min(y + h, height_); ++row)
    for (int col = std::max(x, 0); col < std::min(x + w, width_); ++col) set(col, row, color);
}

void Canvas::line(int x0, int y0, int x1, int y1, Color color, int thickness) {
  const int steps = std::max(std::abs(x1 - x0), std::abs(y1 - y0));
  for (int i = 0; i <= steps; ++i) {
    const double t = steps == 0 ? 0.0 : static_cast<double>(i) / steps;
    const int x = static_cast<int>(std::lround(x0 + t * (x1 - x0)));
    const int y = static_cast<int>(std::lround(y0 + t * (y1 - y0)));
    fill_rect(x - thickness / 2, y - thickness / 2, thickness, thickness, color);
  }
}

// stb_easy_font builds each character from axis-aligned quads (4 vertices of 16 bytes each), which
// are filled here as rectangles.
void Canvas::text(int x, int y, const std::string& text, Color color, int scale) {
  std::string copy = text;
  // About 270 bytes a character on average, several times that for some: room for the worst.
  std::vector<char> vertices(copy.size() * 2048 + 2048);
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
  for (int q = 0; q < quads; ++q) {
    float v0[2], v2[2];  // the quad's first and third corners: top left and bottom right
    std::memcpy(v0, vertices.data() + q * 64, sizeof v0);
    std::memcpy(v2, vertices.data() + q * 64 + 32, sizeof v2);
    // Outward rounding, so that a stroke at a fractional position keeps its full width.
    const int left = static_cast<int>(std::floor(v0[0] * scale)), top = static_cast<int>(std::floor(v0[1] * scale));
    const int right = static_cast<int>(std::ceil(v2[0] * scale)), bottom = static_cast<int>(std::ceil(v2[1] * scale));
    fill_rect(x + left, y + top, right - left, bottom - top, color);
  }
}

int Canvas::text_width(const std::string& text, int scale) {
  std::string copy = text;
  return stb_easy_font_width(copy.data()) * scale;
}

bool Canvas::save_png(const std::string& path) const {
  return stbi_write_png(path.c_str(), width_, height_, 3, pixels_.data(), width_ * 3) != 0;
}

}  // namespace examples
