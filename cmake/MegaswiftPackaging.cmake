# Relocatable install tree and CPack TGZ. Filled in by the packaging step of issue 2.
set(CPACK_GENERATOR TGZ)
set(CPACK_PACKAGE_NAME megaswift)
include(CPack)
