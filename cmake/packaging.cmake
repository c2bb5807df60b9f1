# The Debian package: `cpack -G DEB` in the build directory (after building
# the tributary target) writes tributary_<version>_amd64.deb with the binary,
# the systemd unit, the README and docs/, the sample configuration and the
# monitoring files.
# ops/debian/package_test.sh builds, installs and runs it.

include(GNUInstallDirs)
install(TARGETS tributary RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/ops/systemd/tributary@.service
        DESTINATION lib/systemd/system)
set(doc ${CMAKE_INSTALL_DATAROOTDIR}/doc/tributary)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${doc})
# The README links to docs/ (configuration reference and the rest).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs DESTINATION ${doc})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/conf/conn ${PROJECT_SOURCE_DIR}/conf/src
                  ${PROJECT_SOURCE_DIR}/conf/dst ${PROJECT_SOURCE_DIR}/conf/filter
                  ${PROJECT_SOURCE_DIR}/conf/mapper
        DESTINATION ${doc}/examples)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/ops/prometheus ${PROJECT_SOURCE_DIR}/ops/grafana
        DESTINATION ${doc}/examples)

# `make package` would otherwise build every test first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tributary)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Tributary maintainers <tributary@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Replicates PostgreSQL and MySQL/MariaDB tables into Redis Streams")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
# Library dependencies come from the binary (dpkg-shlibdeps); postinst needs
# adduser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/ops/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
