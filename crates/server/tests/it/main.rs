mod placeholder_until_written {}
