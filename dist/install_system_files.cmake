# Installs the systemd units and the example configs (run by `cmake --install`
# and by CPack). Under the prefix /usr (the Debian package) they go to /etc and
# /lib/systemd/system, where systemd and dpkg look; under any other prefix P to
# P/etc/p2p-share and P/lib/systemd/system. The same rule as GNUInstallDirs'
# SYSCONFDIR, but taken at install time, because CPack installs again with /usr.
# Input: P2P_DIST_DIR.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(p2p_etc "/etc/p2p-share")
  set(p2p_units "/lib/systemd/system")
else()
  set(p2p_etc "${CMAKE_INSTALL_PREFIX}/etc/p2p-share")
  set(p2p_units "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
file(INSTALL DESTINATION "${p2p_etc}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${P2P_DIST_DIR}/config/tracker.conf" "${P2P_DIST_DIR}/config/seed-srv-share.conf")
file(INSTALL DESTINATION "${p2p_units}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${P2P_DIST_DIR}/systemd/p2p-tracker.service" "${P2P_DIST_DIR}/systemd/p2p-seed@.service")
