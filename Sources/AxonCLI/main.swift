print("axon")
