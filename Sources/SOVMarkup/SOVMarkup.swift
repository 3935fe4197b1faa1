import SOVCore
