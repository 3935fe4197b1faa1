import SOVCLI

ValidateCommand.main()
