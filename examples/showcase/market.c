#include "market.h"

static const char *const names[MARKET_SYMBOLS] = {
    "ACME", "BOLT", "CRUX", "DYNA", "ECHO", "FLUX", "GRID", "HALO",
    "IONX", "JADE", "KILN", "LUMA", "MESA", "NOVA", "ORBT", "PIXL",
    "QUAD", "RIFT", "SOLR", "TIDE", "UMBR", "VOLT", "WAVE", "XENO",
    "YARN", "ZEST", "AERO", "BYTE", "CORE", "DUNE", "EMBR", "FERN",
    "GLOW", "HIVE", "ISLE", "JOLT", "KRAK", "LOOM", "MINT", "NEON"};

const char *market_symbol_name(uint32_t index) {
  return index < MARKET_SYMBOLS ? names[index] : "?";
}
