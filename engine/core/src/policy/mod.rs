//! Policy files: parsing, validation and compilation.
