// Open MPI's C API from Debian's libopenmpi-dev (the header lives under the multiarch include
// directory's mpi/ alternative), plus what Swift cannot import: the predefined handles are
// macros over the library's global objects, so each is returned by a function here.
#include <mpi/mpi.h>

static inline MPI_Comm axon_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype axon_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype axon_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype axon_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op axon_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Errhandler axon_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int axon_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int axon_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int axon_mpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static inline void *axon_mpi_in_place(void) { return MPI_IN_PLACE; }
