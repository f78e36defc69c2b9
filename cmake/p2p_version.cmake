# Run at build time (cmake -P) so the version follows the checkout without a
# reconfigure: writes OUT from IN with P2P_VERSION and P2P_GIT_DESCRIBE, and
# only when the text changes (configure_file), so an unchanged commit rebuilds nothing.
# Inputs: -DIN= -DOUT= -DVERSION= -DSOURCE_DIR=
set(P2P_VERSION "${VERSION}")
set(P2P_GIT_DESCRIBE "")
find_program(GIT git)
if(GIT AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" describe --always --dirty --tags
                  OUTPUT_VARIABLE P2P_GIT_DESCRIBE OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    set(P2P_GIT_DESCRIBE "")
  endif()
endif()
if(P2P_GIT_DESCRIBE)
  set(P2P_VERSION_TEXT "${P2P_VERSION} (git ${P2P_GIT_DESCRIBE})")
else()
  set(P2P_VERSION_TEXT "${P2P_VERSION}")
endif()
configure_file("${IN}" "${OUT}" @ONLY)
