# install.cmake: what `make install` (cmake --install) puts where, in the
# GNU layout (GNUInstallDirs): programs, libwhistle (static and shared,
# with whistle.pc), its headers, the .proto files, the systemd units and
# sysusers entry (generated with the paths of this install), the config
# (never over an operator's), the message catalogues (whistle_po), the
# docs and a man page for every program, made by help2man from the
# program's own --help and --version so that the two cannot drift.
# DESTDIR is honoured throughout (cmake --install reads it from the
# environment).

# ---- programs -----------------------------------------------------------
install(TARGETS whistled RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
if(TARGET whistle_gateway)
  install(TARGETS whistle_gateway RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
  # the web console's pages (docs/web.md): plain files, no build step; the
  # gateway's web.root defaults to where they go
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/client/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/whistle/web)
endif()
if(TARGET whistle_bridge)
  install(TARGETS whistle_bridge RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
endif()
if(TARGET whistle_router)
  install(TARGETS whistle_router RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
endif()
set(WHISTLE_PROGRAMS whistle_cli whistle_console whistle_kiosk whistle_bench whistle_city)
foreach(t ${WHISTLE_PROGRAMS})
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# ---- libwhistle for integrators ----------------------------------------
# The programs link the static `whistle` target of the build; what is
# installed is built once more from the same sources with the protocol's
# generated code inside, so that -lwhistle alone resolves every symbol of
# the public headers. The shared library's soname follows the major
# version: an incompatible change of the API or of the generated message
# structs raises it.
add_library(whistle_dist_obj OBJECT ${LIBWHISTLE_SRC} ${PROTO_OUT}/whistle/v1/whistle.pb-c.c)
set_target_properties(whistle_dist_obj PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(whistle_dist_obj PRIVATE ${CMAKE_SOURCE_DIR}/include ${PROTO_OUT})
target_link_libraries(whistle_dist_obj PRIVATE PkgConfig::PROTOBUFC PkgConfig::UV PkgConfig::OPENSSL PkgConfig::INIH)
set_source_files_properties(${PROTO_OUT}/whistle/v1/whistle.pb-c.c PROPERTIES COMPILE_OPTIONS -Wno-error)
add_library(whistle_shared SHARED $<TARGET_OBJECTS:whistle_dist_obj>)
add_library(whistle_static STATIC $<TARGET_OBJECTS:whistle_dist_obj>)
target_link_libraries(whistle_shared PRIVATE PkgConfig::PROTOBUFC PkgConfig::UV PkgConfig::OPENSSL PkgConfig::INIH
  Threads::Threads m)
set_target_properties(whistle_shared PROPERTIES OUTPUT_NAME whistle VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR} LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/dist)
set_target_properties(whistle_static PROPERTIES OUTPUT_NAME whistle ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/dist)
install(TARGETS whistle_shared whistle_static
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_SKIP COMPONENT lib
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(TARGETS whistle_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_ONLY COMPONENT dev)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/whistle DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES ${PROTO_OUT}/whistle/v1/whistle.pb-c.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/whistle/v1 COMPONENT dev)
configure_file(${CMAKE_SOURCE_DIR}/cmake/whistle.pc.in ${CMAKE_BINARY_DIR}/dist/whistle.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/dist/whistle.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
# The wire protocol, for clients in other languages (protoc, buf).
install(FILES ${CMAKE_SOURCE_DIR}/proto/whistle/v1/whistle.proto
  DESTINATION ${CMAKE_INSTALL_DATADIR}/whistle/proto/whistle/v1 COMPONENT dev)

# ---- systemd, config ----------------------------------------------------
# Units live under the prefix's lib/systemd/system (systemd reads
# /usr/local/lib/systemd/system too), and name the paths of this install.
set(WHISTLE_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" CACHE PATH "systemd system unit directory")
set(WHISTLE_SYSUSERSDIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d" CACHE PATH "sysusers.d directory")
set(WHISTLE_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/whistle")
set(WHISTLE_SBINDIR "${CMAKE_INSTALL_FULL_SBINDIR}")
set(WHISTLE_BINDIR "${CMAKE_INSTALL_FULL_BINDIR}")
set(WHISTLE_DOCDIR "${CMAKE_INSTALL_FULL_DOCDIR}")
set(WHISTLE_UNITS whistled.service whistle-kiosk.service whistled-backup.service whistled-backup.timer)
if(TARGET whistle_gateway)
  list(APPEND WHISTLE_UNITS whistle-gateway.service)
endif()
if(TARGET whistle_bridge)
  list(APPEND WHISTLE_UNITS whistle-bridge.service)
endif()
if(TARGET whistle_router)
  list(APPEND WHISTLE_UNITS whistle-router.service)
endif()
foreach(unit ${WHISTLE_UNITS})
  configure_file(${CMAKE_SOURCE_DIR}/systemd/${unit}.in ${CMAKE_BINARY_DIR}/dist/systemd/${unit} @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/dist/systemd/${unit} DESTINATION ${WHISTLE_SYSTEMD_UNITDIR})
endforeach()
install(FILES ${CMAKE_SOURCE_DIR}/systemd/whistle.sysusers DESTINATION ${WHISTLE_SYSUSERSDIR} RENAME whistle.conf)
set(WHISTLE_TMPFILESDIR "${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d" CACHE PATH "tmpfiles.d directory")
install(FILES ${CMAKE_SOURCE_DIR}/systemd/whistle.tmpfiles DESTINATION ${WHISTLE_TMPFILESDIR} RENAME whistle.conf)
# The configs name their files under /etc/whistle; an install elsewhere
# gets its own directory in their place. An operator's config is theirs: a
# reinstall or upgrade from source leaves it alone (the Debian package has
# dpkg's conffile handling). The gateway's holds API keys: not for others.
set(WHISTLE_CONFS "whistled.conf|WORLD_READ")
if(TARGET whistle_gateway)
  list(APPEND WHISTLE_CONFS "whistle-gateway.conf|")
endif()
if(TARGET whistle_bridge)
  list(APPEND WHISTLE_CONFS "whistle-bridge.conf|")
endif()
foreach(entry ${WHISTLE_CONFS})
  string(REPLACE "|" ";" f "${entry}")
  list(GET f 0 conf)
  list(GET f 1 world)
  file(READ ${CMAKE_SOURCE_DIR}/conf/${conf} conf_text)
  string(REPLACE "/etc/whistle/" "${WHISTLE_CONFDIR}/" conf_text "${conf_text}")
  file(WRITE ${CMAKE_BINARY_DIR}/dist/${conf} "${conf_text}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/conf/${conf})
  install(CODE "
    set(dest \"\$ENV{DESTDIR}${WHISTLE_CONFDIR}\")
    if(EXISTS \"\${dest}/${conf}\")
      message(STATUS \"Keeping: \${dest}/${conf} (an existing config is never overwritten)\")
    else()
      message(STATUS \"Installing: \${dest}/${conf}\")
      file(COPY \"${CMAKE_BINARY_DIR}/dist/${conf}\" DESTINATION \"\${dest}\"
           FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ ${world})
    endif()")
endforeach()

# ---- docs and man pages -------------------------------------------------
file(GLOB WHISTLE_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${WHISTLE_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/examples DESTINATION ${CMAKE_INSTALL_DOCDIR})

find_program(HELP2MAN help2man)
if(HELP2MAN)
  # program target, page name, section, one-line description
  set(WHISTLE_MAN_PAGES
    "whistled|whistled|8|the whistle grid-governance daemon"
    "whistle_cli|whistle|1|command-line client of the whistle daemon"
    "whistle_console|whistle-console|1|the whistle command center's screen"
    "whistle_kiosk|whistle-kiosk|1|the whistle community self-service terminal"
    "whistle_bench|whistle-bench|1|load generator and benchmark for whistled"
    "whistle_gateway|whistle-gateway|8|Open311 GeoReport v2 gateway and notifier of whistled"
    "whistle_bridge|whistle-bridge|8|a district's link between whistled and the city's NATS JetStream"
    "whistle_city|whistle-city|1|the city's side of a federation of whistled districts on NATS JetStream"
    "whistle_router|whistle-router|8|the 12345 hotline's router of a federated city")
  set(man_outputs)
  foreach(entry ${WHISTLE_MAN_PAGES})
    string(REPLACE "|" ";" f "${entry}")
    list(GET f 0 tgt)
    list(GET f 1 page)
    list(GET f 2 sect)
    list(GET f 3 desc)
    if(NOT TARGET ${tgt})
      continue()
    endif()
    set(out ${CMAKE_BINARY_DIR}/man/${page}.${sect})
    # In the C locale, so that the page is the English help whatever the
    # builder's language; the leak checker has nothing to say about --help.
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C.UTF-8 LANGUAGE= ASAN_OPTIONS=detect_leaks=0
              ${HELP2MAN} --no-info --no-discard-stderr --section=${sect} --name=${desc}
              --output=${out} $<TARGET_FILE:${tgt}>
      DEPENDS ${tgt} COMMENT "help2man ${page}.${sect}" VERBATIM)
    list(APPEND man_outputs ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sect})
  endforeach()
  add_custom_target(man_pages ALL DEPENDS ${man_outputs})
else()
  message(WARNING "help2man not found: no man pages (apt install help2man)")
endif()
