# Embeds the dashboard page in the library as a C byte array:
#   cmake -DIN=dashboard.html -DOUT=dashboard.c -P embed.cmake
# Bytes rather than a string literal: no escaping, no length limits.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" nhex)
math(EXPR len "${nhex} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPLACE "0x0a," "0x0a,\n" bytes "${bytes}") # one source line per page line
file(WRITE "${OUT}.tmp"
  "/* Generated from src/inspector/dashboard.html by embed.cmake. Do not edit. */\n"
  "#include <stddef.h>\n"
  "extern const unsigned char bs__insp_dashboard[];\n"
  "extern const size_t bs__insp_dashboard_len;\n"
  "const unsigned char bs__insp_dashboard[] = {\n${bytes}0x00};\n"
  "const size_t bs__insp_dashboard_len = ${len};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
