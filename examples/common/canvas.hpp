#pragma once
// A small RGB canvas for the examples' pictures: rectangles, lines, text (stb_easy_font's bitmap
// font) and a PNG writer (stb_image_write).
#include <cstdint>
#include <string>
#include <vector>

namespace examples {

struct Color {
  std::uint8_t r, g, b;
};

class Canvas {
 public:
  Canvas(int width, int height, Color background);

  int width() const { return width_; }
  int height() const { return height_; }
  // Pixels outside the canvas are skipped.
  void set(int x, int y, Color color);
  void fill_rect(int x, int y, int w, int h, Color color);
  // A line of the given thickness from (x0, y0) to (x1, y1).
  void line(int x0, int y0, int x1, int y1, Color color, int thickness = 1);
  // Text with its top left corner at (x, y), each font pixel drawn as scale x scale.
  void text(int x, int y, const std::string& text, Color color, int scale = 1);
  // The width in pixels text() would take.
  static int text_width(const std::string& text, int scale = 1);
  // Returns false when the file cannot be written.
  bool save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<std::uint8_t> pixels_;  // row-major RGB
};

}  // namespace examples
