// The single-binary `axon`: the backends chosen by the package traits are compiled in. Plugins
// on the plugin path are reported as skipped, since Backend is compiled in too (the plugin
// build is Plugins/Dynamic; docs/plugins.md).
import AxonBackends
import AxonCommands

LinkedBackends.register()
AxonCommand.runLoadingPlugins()
