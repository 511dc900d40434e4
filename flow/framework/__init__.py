"""Framework pieces shared by the runtime: ``apply_op``/``convert_to_tensor`` and tensor protos."""
