// FreeType (Debian: libfreetype-dev): glyph outlines rasterized to 8-bit coverage, for the text
// of GyreRender's plots (with DejaVu Sans from fonts-dejavu-core).
#include <ft2build.h>
#include FT_FREETYPE_H
