// The DATASTORE argument every datastore and disk command starts with.

import ArgumentParser

struct DatastoreLocation: ParsableArguments {
    @Argument(help: ArgumentHelp("The datastore: the path of an image file (iscsi:// LUN URLs come with the native initiator).", valueName: "datastore"))
    var datastore: String
}
