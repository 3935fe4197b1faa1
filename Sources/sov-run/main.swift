import SOVCLI

RunCommand.main()
