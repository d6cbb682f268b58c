// The DATASTORE argument every datastore and disk command starts with.

import ArgumentParser

struct DatastoreLocation: ParsableArguments {
    @Argument(help: ArgumentHelp("The datastore: the path of an image file, or an iscsi://host[:port]/IQN/LUN URL.", valueName: "datastore"))
    var datastore: String
}
